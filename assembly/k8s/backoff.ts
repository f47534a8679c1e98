// Retry delay after a failed request: 200 ms doubling to a 7 s cap, with
// jitter. The values are kubelet's lease controller's
// (k8s.io/component-helpers/apimachinery/lease/controller.go
// backoffEnsureLease: sleep starts at 100 ms and is doubled before each wait,
// so the first wait is 200 ms; maxBackoff = 7 s). Kubelet's node registration
// uses the same 7 s cap (pkg/kubelet/kubelet_node_status.go registerWithAPIServer).

import { random_fill } from "../host/imports";

/** First retry delay. */
export const BACKOFF_INITIAL_MS: i64 = 200;
/** Largest retry delay (jitter only ever shortens a delay, so never above this). */
export const BACKOFF_MAX_MS: i64 = 7000;
/** Jitter: each delay is shortened by a random amount up to 1/BACKOFF_JITTER_DIV
 *  of it (20 %), so many nodes restarted together do not retry in step. */
export const BACKOFF_JITTER_DIV: i64 = 5;

const RND: usize = memory.data(4);

// @ts-ignore: decorator
@unmanaged
export class Backoff {
  private base: i64 = 0;
  private count: i32 = 0;

  /** Consecutive failures since the last reset(). */
  get failures(): i32 { return this.count; }

  /** A request succeeded: the next failure starts again at BACKOFF_INITIAL_MS. */
  reset(): void {
    this.base = 0;
    this.count = 0;
  }

  /** Records a failure; returns the delay before the next try, in
   *  [base - base/BACKOFF_JITTER_DIV, base], base doubling up to the cap. */
  next(): i64 {
    this.count++;
    let b = this.base == 0 ? BACKOFF_INITIAL_MS : this.base * 2;
    if (b > BACKOFF_MAX_MS) b = BACKOFF_MAX_MS;
    this.base = b;
    let r: u32 = 0;
    if (random_fill(RND, 4) == 4) r = load<u32>(RND);
    const span = b / BACKOFF_JITTER_DIV + 1;
    return b - <i64>(<u64>r % <u64>span);
  }
}
