#!/usr/bin/env node
// Runs the hosted board (build/sim-pico/k3s_pico_hosted: the firmware's code
// for Linux, firmware-shim/port/pico/hosted/README.md) with the simulator's
// command line, so the end-to-end harness can run it as PICO_SIM:
//
//   pico-hosted.mjs --config FILE [--wasm PATH] [--log-level 0-3]
//   pico-hosted.mjs --network      (only sets up the bridge, prints the
//                                   gateway address, then exits)
//
// What a user does with a board, done here: the config file becomes the
// config region and build/core.wasm the core slot of a flash image
// (tools/uf2/uf2.mjs, as their UF2s would write them), kept next to the
// config as FILE.flash so the node's keys survive a restart as on the board;
// the board's "Wi-Fi" is a TAP device on the bridge picobr0 (10.77.0.1/24,
// the gateway), with a static lease 10.77.0.(10+K); its SNTP server is this
// process, on 10.77.0.(130+K), serving this machine's clock
// (+ PICO_SIM_CLOCK_OFFSET_S, as for the simulator). A server.host of
// 127.0.0.1 or localhost becomes the gateway: start the cluster with
// PICO_CLUSTER_EXTRA_ADDRESS=10.77.0.1 (tests/cluster/relay.go). Needs root
// (TAP, bridge, port 123).
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configImageFromText, coreImage, readLayout } from '../tools/uf2/uf2.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BOARD = path.join(ROOT, 'build/sim-pico/k3s_pico_hosted');
export const BRIDGE = 'picobr0';
export const GATEWAY = '10.77.0.1';
const PREFIX = '10.77.0.';
const MAX_BOARDS = 100;
const PID_DIR = '/run/pico-hosted';

function ip(...args) {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}
function tryIp(...args) {
  try { ip(...args); return true; } catch { return false; }
}

/** The bridge the boards' TAP devices join, with the gateway address. */
export function setupNetwork() {
  if (!existsSync(`/sys/class/net/${BRIDGE}`)) tryIp('link', 'add', BRIDGE, 'type', 'bridge');
  if (!ip('-4', 'addr', 'show', 'dev', BRIDGE).includes(`${GATEWAY}/`)) tryIp('addr', 'add', `${GATEWAY}/24`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** A TAP device pico<K> of our own on the bridge; a stale one (its owner's
 *  pid file names a dead process) is taken over. */
function claimTap() {
  mkdirSync(PID_DIR, { recursive: true });
  for (let k = 0; k < MAX_BOARDS; k++) {
    const tap = `pico${k}`;
    const pidFile = path.join(PID_DIR, `${tap}.pid`);
    if (existsSync(`/sys/class/net/${tap}`)) {
      const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
      if (owner && alive(owner)) continue;
      tryIp('link', 'del', tap);
    }
    if (!tryIp('tuntap', 'add', 'dev', tap, 'mode', 'tap')) continue; // another wrapper won it
    writeFileSync(pidFile, String(process.pid));
    ip('link', 'set', tap, 'master', BRIDGE);
    ip('link', 'set', tap, 'up');
    return { k, tap, pidFile };
  }
  throw new Error(`no free TAP device pico0..pico${MAX_BOARDS - 1}`);
}

/** NTP timestamp (RFC 5905 §6: seconds since 1900, 32.32 fixed point). */
function ntpTime(buf, at, ms) {
  const s = Math.floor(ms / 1000);
  buf.writeUInt32BE((s + 2208988800) >>> 0, at);
  buf.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, at + 4);
}

/** An SNTP server (RFC 4330 §5) on addr:123 with this machine's clock
 *  shifted by offsetS. */
function startSntp(addr, offsetS) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (req, rinfo) => {
    if (req.length < 48 || (req[0] & 7) !== 3) return; // mode 3: client
    const now = Date.now() + offsetS * 1000;
    const res = Buffer.alloc(48);
    res[0] = (req[0] & 0x38) | 4; // LI 0, the client's version, mode 4 (server)
    res[1] = 1; // stratum 1: a primary reference
    res[2] = req[2];
    res[3] = 0xec; // precision 2^-20 s
    res.write('LOCL', 12, 'ascii');
    ntpTime(res, 16, now); // reference
    req.copy(res, 24, 40, 48); // originate = the client's transmit
    ntpTime(res, 32, now); // receive
    ntpTime(res, 40, now); // transmit
    sock.send(res, rinfo.port, rinfo.address);
  });
  sock.bind(123, addr);
  return sock;
}

/** The config text as the board gets it: the API server at the gateway
 *  when it was this machine's loopback, the SNTP server, a network name;
 *  node.ip comes from the lease. */
export function boardConfigText(text, { ntp, logLevel }) {
  const out = [];
  const seen = new Set();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9._-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) seen.add(m[1]);
    if (m && m[1] === 'node.ip') continue;
    if (m && m[1] === 'server.host' && (m[2] === '127.0.0.1' || m[2] === 'localhost')) {
      out.push(`server.host = ${GATEWAY}`);
      continue;
    }
    out.push(line);
  }
  if (!seen.has('wifi.ssid')) out.push('wifi.ssid = hosted');
  if (!seen.has('time.ntp_server')) out.push(`time.ntp_server = ${ntp}`);
  if (logLevel !== undefined) out.push(`log.level = ${logLevel}`);
  return out.filter((l) => l.trim() !== '').join('\n') + '\n';
}

/** Writes the config region and core slot 0 into the image at flashPath
 *  (made erased when missing); the storage region is kept. */
function writeFlash(flashPath, configPath, wasmPath, opts) {
  const layout = readLayout();
  if (!existsSync(flashPath)) writeFileSync(flashPath, Buffer.alloc(layout.TOTAL_BYTES, 0xff));
  const config = configImageFromText(boardConfigText(readFileSync(configPath, 'utf8'), opts),
    path.dirname(path.resolve(configPath)), { layout });
  const core = coreImage(readFileSync(wasmPath), { layout });
  const fd = openSync(flashPath, 'r+');
  try {
    for (const [offset, bytes, image] of [[layout.CONFIG_OFFSET, layout.CONFIG_BYTES, config],
      [layout.CORE_OFFSET, layout.CORE_BYTES, core], [layout.CORE_B_OFFSET, layout.CORE_B_BYTES, null]]) {
      const region = Buffer.alloc(bytes, 0xff);
      if (image) image.copy(region);
      writeSync(fd, region, 0, bytes, offset);
    }
  } finally {
    closeSync(fd);
  }
}

function parseArgs(argv) {
  const a = { wasm: path.join(ROOT, 'build/core.wasm') };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--network') a.network = true;
    else if (k === '--config' && v) { a.config = v; i++; }
    else if (k === '--wasm' && v) { a.wasm = v; i++; }
    else if (k === '--log-level' && /^[0-3]$/.test(v ?? '')) { a.logLevel = v; i++; }
    else throw new Error(`${k}: not an option of the hosted board (it has no --stats or --max-polls)`);
  }
  if (!a.network && !a.config) throw new Error('--config FILE is required');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  setupNetwork();
  if (args.network) {
    console.log(GATEWAY);
    return 0;
  }
  if (!existsSync(BOARD)) throw new Error(`${BOARD} missing: scripts/build-sim.sh builds it (PICO_SDK_PATH, WAMR_ROOT)`);
  const { k, tap, pidFile } = claimTap();
  const ntpAddr = `${PREFIX}${130 + k}`;
  tryIp('addr', 'add', `${ntpAddr}/32`, 'dev', BRIDGE);
  const cleanup = () => {
    tryIp('addr', 'del', `${ntpAddr}/32`, 'dev', BRIDGE);
    tryIp('link', 'del', tap);
    try { unlinkSync(pidFile); } catch { /* gone */ }
  };
  try {
    const flash = `${path.resolve(args.config)}.flash`;
    writeFlash(flash, args.config, args.wasm, { ntp: ntpAddr, logLevel: args.logLevel });
    const lease = `${PREFIX}${10 + k}`;
    writeFileSync(`${path.resolve(args.config)}.lease`, `${lease}\n`); // for the e2e harness
    const sntp = startSntp(ntpAddr, Number(process.env.PICO_SIM_CLOCK_OFFSET_S ?? 0));
    const boardId = createHash('sha256').update(path.resolve(args.config)).digest('hex').slice(0, 16);
    const child = spawn(BOARD, [], {
      stdio: 'inherit',
      env: {
        ...process.env, PICO_HOSTED_FLASH: flash, PICO_HOSTED_TAP: tap, PICO_HOSTED_IP: lease,
        PICO_HOSTED_GATEWAY: GATEWAY, PICO_HOSTED_BOARD_ID: boardId,
      },
    });
    let asked = null;
    for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { asked = sig; child.kill(sig); });
    process.on('SIGUSR1', () => child.kill('SIGUSR1')); // the board's memory report (cyw43.c)
    const [code, sig] = await new Promise((res) => child.on('exit', (c, s) => res([c, s])));
    sntp.close();
    // The board has no stop request: killed as asked is a clean stop.
    return sig && sig === asked ? 0 : (code ?? 128);
  } finally {
    cleanup();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((c) => { process.exitCode = c; }, (e) => { console.error(`pico-hosted: ${e.message}`); process.exitCode = 2; });
}
