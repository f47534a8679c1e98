// What the core counts for the kubelet endpoint's /metrics (issue 5): API
// requests by method and status code, watch restarts, ConfigMap updates
// applied and rejected, kubelet requests served. One instance, made when the
// module starts; counting never allocates.

import { API_COUNTER_SLOTS } from "../util/limits";

/** Methods the core sends, as indices (METHOD_NAMES in kubelet/metrics.ts). */
export const M_GET: i32 = 0;
export const M_POST: i32 = 1;
export const M_PUT: i32 = 2;
export const M_PATCH: i32 = 3;
export const M_DELETE: i32 = 4;

// @ts-ignore: decorator
@unmanaged
export class Counters {
  /** (method << 16 | code) of each slot, 0 = free; counts beside them. An
   *  unexpected pair when every slot is taken goes to `apiOther`. */
  readonly apiKey: usize = heap.alloc(<usize>API_COUNTER_SLOTS * 4);
  readonly apiCount: usize = heap.alloc(<usize>API_COUNTER_SLOTS * 8);
  apiOther: i64 = 0;
  watchRestarts: i64 = 0;
  configmapApplied: i64 = 0;
  configmapRejected: i64 = 0;
  /** Kubelet endpoint answers, those with a 4xx/5xx status, and connections
   *  closed unserved because the core's queue was full. */
  kubeletRequests: i64 = 0;
  kubeletErrors: i64 = 0;
  kubeletDropped: i64 = 0;

  constructor() {
    memory.fill(this.apiKey, 0, <usize>API_COUNTER_SLOTS * 4);
    memory.fill(this.apiCount, 0, <usize>API_COUNTER_SLOTS * 8);
  }

  /** One API answer: `method` M_*, `code` the HTTP status (0: no answer). */
  api(method: i32, code: i32): void {
    const key: u32 = (<u32>(method + 1) << 16) | <u32>(code & 0xffff);
    for (let i = 0; i < API_COUNTER_SLOTS; i++) {
      const at = this.apiKey + <usize>i * 4;
      const k = load<u32>(at);
      if (k == 0) store<u32>(at, key);
      if (k == 0 || k == key) {
        const c = this.apiCount + <usize>i * 8;
        store<i64>(c, load<i64>(c) + 1);
        return;
      }
    }
    this.apiOther++;
  }

  /** M_* of a request line's method (its first bytes), GET when unknown. */
  static methodOf(line: usize, len: i32): i32 {
    if (len < 3) return M_GET;
    const a = load<u8>(line);
    const b = load<u8>(line + 1);
    if (a == 0x50) return b == 0x4f ? M_POST : b == 0x55 ? M_PUT : M_PATCH; // PO PU PA
    return a == 0x44 ? M_DELETE : M_GET;
  }
}

export const COUNTERS: Counters = new Counters();
