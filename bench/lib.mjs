// What the benchmarks share. Each figure is one JSON line on stdout:
// {"metric": "...", "value": N, "unit": "...", ...notes}; nothing is asserted.
import tls from 'node:tls';

/** Prints one figure. */
export const out = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ metric, value, unit, ...extra }));

/** The p-th percentile of xs (nearest rank). */
export const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

/** An open TLS connection to a node's kubelet endpoint at host:port
 *  (handshake done), with the client certificate in creds. */
export function kubeletConnect(host, port, creds) {
  return new Promise((res, rej) => {
    const s = tls.connect({ host, port, ...creds, checkServerIdentity: () => undefined });
    s.once('secureConnect', () => res(s));
    s.once('error', rej);
  });
}

/** Sends GET `p` on `s` with "Connection: close" and resolves the whole
 *  response text once it closes. */
export function kubeletGet(s, p) {
  return new Promise((res, rej) => {
    let data = '';
    s.on('data', (d) => { data += d; });
    s.once('close', () => res(data));
    s.once('error', rej);
    s.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
}
