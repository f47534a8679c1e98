// What the benchmarks share. Each figure is one JSON line on stdout:
// {"metric": "...", "value": N, "unit": "...", ...notes}; nothing is asserted.

/** Prints one figure. */
export const out = (metric, value, unit, extra = {}) => console.log(JSON.stringify({ metric, value, unit, ...extra }));

/** The p-th percentile of xs (nearest rank). */
export const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
