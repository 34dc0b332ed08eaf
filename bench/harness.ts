// The benchmark harness: each bench/<area>.bench.ts exports `run(ctx)` returning rows; run.ts
// runs them all (or those named on the command line), prints one table per area with each
// peer's figure and its ratio to tkl, and writes bench/results/<date>-<area>.json.

export interface BenchRow {
  /** What was measured, e.g. "create+write+close 4 KiB files". */
  case: string;
  /** Who did it: 'tkl' or a peer's name ('memfs', 'Linux tmpfs via node:fs', 'mke2fs -d'). */
  subject: string;
  /** The figure, in `unit`. */
  value: number;
  /** e.g. 'ops/s', 'MB/s', 's', 'µs/boot', 'bytes/instance'. */
  unit: string;
  /** True when a larger value is better (throughput), false for times and sizes. */
  higherIsBetter: boolean;
  /** Anything a reader needs to interpret the row. */
  note?: string;
}

export interface BenchContext {
  /** Scale factor: 1 for the full run; smaller for a quick run (BENCH_QUICK=1). */
  scale: number;
  /** A fresh temporary directory for this area, removed afterwards. */
  tmpdir: string;
  log(msg: string): void;
}

export type BenchFn = (ctx: BenchContext) => Promise<BenchRow[]>;

/** Wall time of `fn` in seconds (best of `repeat`). */
export async function timeIt(fn: () => unknown | Promise<unknown>, repeat = 1): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (t < best) best = t;
  }
  return best;
}
