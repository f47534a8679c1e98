// Every failure the tool reports is one sentence: what went wrong and what to
// do. CliError carries such a sentence; explain() turns anything else
// (Kubernetes API errors, network errors, file errors) into one.

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

interface ApiLike {
  code?: number;
  body?: unknown;
  cause?: { code?: string };
}

/** One sentence for an error from a step described by `doing` ("creating the token"). */
export function explain(e: unknown, doing: string, server?: string): string {
  if (e instanceof CliError) return e.message;
  const err = e as ApiLike & NodeJS.ErrnoException;
  const netCode = err?.code && typeof err.code === 'string' ? err.code : err?.cause?.code;
  if (netCode === 'ECONNREFUSED' || netCode === 'ENOTFOUND' || netCode === 'EHOSTUNREACH' || netCode === 'ETIMEDOUT') {
    return `${doing} failed: cannot reach the API server${server ? ` at ${server}` : ''} (${netCode}); is the cluster running and the kubeconfig right?`;
  }
  if (typeof err?.code === 'number') {
    const status = err.code;
    let reason = '';
    try {
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      reason = (body as { message?: string })?.message ?? '';
    } catch { /* not JSON */ }
    if (status === 401) return `${doing} failed: the API server did not accept the kubeconfig's credentials (HTTP 401).`;
    if (status === 403) return `${doing} failed: the kubeconfig's user may not do this (HTTP 403${reason ? `: ${reason}` : ''}); use an admin kubeconfig.`;
    return `${doing} failed: HTTP ${status}${reason ? `: ${reason}` : ''}.`;
  }
  if (err?.code === 'ENOENT') return `${doing} failed: ${err.path ?? 'a file'} does not exist.`;
  if (err?.code === 'EACCES') return `${doing} failed: no permission to access ${err.path ?? 'a file'}.`;
  const msg = err instanceof Error ? err.message : String(e);
  return `${doing} failed: ${msg.replace(/\s+/g, ' ').trim()}`;
}
