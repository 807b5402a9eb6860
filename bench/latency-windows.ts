/**
 * Latency percentiles over windows of a load run: before a reload (steady state), during it,
 * and after it. A response belongs to the reload window when the request was in flight at any
 * moment of a reload (from the `reload()` call until it resolved, the old workers stopped).
 */

export interface Samples {
  /** When each response completed, ms since the epoch. */
  end: number[];
  /** Each response's latency, ms. */
  latency: number[];
}

export interface Windows {
  /** Responses completing before this are the load's warm-up and are left out. */
  warmUpEnd: number;
  /** [start, end] of each reload, ms since the epoch, in order. */
  reloads: Array<[number, number]>;
}

export interface WindowLatency {
  /** Responses in the window. */
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencyByWindow(samples: Samples, windows: Windows): { steady: WindowLatency; reload: WindowLatency; after: WindowLatency } {
  const steady: number[] = [];
  const reload: number[] = [];
  const after: number[] = [];
  const firstStart = windows.reloads[0]?.[0] ?? Infinity;
  const lastEnd = windows.reloads.at(-1)?.[1] ?? Infinity;
  for (let i = 0; i < samples.end.length; i++) {
    const end = samples.end[i]!;
    const latency = samples.latency[i]!;
    const start = end - latency;
    if (windows.reloads.some(([from, to]) => start <= to && end >= from)) reload.push(latency);
    else if (end < firstStart && end >= windows.warmUpEnd) steady.push(latency);
    else if (start > lastEnd) after.push(latency);
  }
  return { steady: summarize(steady), reload: summarize(reload), after: summarize(after) };
}

function summarize(latencies: number[]): WindowLatency {
  const sorted = Float64Array.from(latencies).sort();
  return { count: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted.at(-1) ?? 0 };
}

/** Nearest-rank percentile of sorted values (0 when there are none). */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
}
