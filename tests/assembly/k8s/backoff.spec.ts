// Retry delays (assembly/k8s/backoff.ts): 200 ms doubling to a 7 s cap, jittered downwards.
import { Backoff, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS } from "../../../assembly/k8s/backoff";
import { fake_reset, fake_random_seed } from "../../fakes/fake";

describe("Backoff", () => {
  beforeEach(() => { fake_reset(); });

  it("doubles from 200 ms and caps at 7 s, with jitter of at most 20 %", () => {
    const b = new Backoff();
    let base: i64 = BACKOFF_INITIAL_MS;
    let jittered = 0;
    for (let i = 0; i < 12; i++) {
      const d = b.next();
      expect(d).toBeLessThanOrEqual(base);
      expect(d).toBeGreaterThanOrEqual(base - base / 5);
      if (d != base) jittered++;
      base = base * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : base * 2;
    }
    expect(b.failures).toBe(12);
    expect(jittered).toBeGreaterThan(6); // the jitter is real, not always zero
    const last = b.next();
    expect(last).toBeLessThanOrEqual(BACKOFF_MAX_MS);
    expect(last).toBeGreaterThan(BACKOFF_MAX_MS / 2); // stays at the cap
  });

  it("starts over after reset", () => {
    const b = new Backoff();
    b.next(); b.next(); b.next();
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBeLessThanOrEqual(BACKOFF_INITIAL_MS);
  });

  it("differs between random seeds (jitter comes from random_fill)", () => {
    fake_random_seed(1);
    const a = new Backoff();
    let sa: i64 = 0;
    for (let i = 0; i < 8; i++) sa = sa * 31 + a.next();
    fake_random_seed(987654321);
    const b = new Backoff();
    let sb: i64 = 0;
    for (let i = 0; i < 8; i++) sb = sb * 31 + b.next();
    expect(sa).not.toBe(sb);
  });
});
