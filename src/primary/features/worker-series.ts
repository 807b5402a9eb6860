/**
 * What of the workers' metrics may be written into the exposition: each sample named as its own
 * metric, never as one of clusterkit's series nor as another metric's (hostile t32 MEDIUM-1:
 * prom-client writes a value's `metricName` as the sample's name, so a gauge `app_x` whose values
 * said `metricName: 'clusterkit_worker_up'` wrote `clusterkit_worker_up{slot="0"} 1` ahead of
 * clusterkit's own, and Prometheus kept the forged sample and dropped the real one). Pure.
 *
 * The merged families first (H317: a gauge `app_lat_count` registered by one worker replaced the
 * count of the histogram `app_lat` merged from every worker, and the WARN blamed the others):
 * - a metric named as one of clusterkit's families is dropped whole (H278);
 * - a name keeps one type, the one most workers give it (on a tie, the lowest slot's): a metric
 *   of another type under that name is dropped whole from the workers that give it;
 * - a histogram or summary keeps the names it writes (`<name>_bucket`, `_sum`, `_count`; a
 *   summary `_sum`, `_count`): a metric of any type named as one of them is dropped whole from
 *   every worker that sends it, and the histogram's own samples are merged from all the workers.
 *   Names are settled shortest first, so the rule has one outcome whatever the workers' order
 *   (a histogram `a`, then `a_sum` dropped, then `a_sum_count`, whose owner is gone, kept). A
 *   family the merge omits (aggregator `omit`) is written by no one and collides with nothing.
 * Then each sample: it is kept when its name (`metricName`, or the metric's name without one) is
 * - the metric's name (a `metricName` equal to it is removed: prom-client's aggregation groups a
 *   value without `metricName` apart from one with it, and writes both, one series twice);
 * - or the metric's name plus a suffix prom-client writes for the metric's type: a histogram's
 *   `_bucket`, `_sum`, `_count` (histogram.js), a summary's `_sum`, `_count` (summary.js). A
 *   counter's `_total` is added only by the OpenMetrics writer, from the name, not by a value,
 *   and the exposition is written in the Prometheus format;
 * and it is not one of clusterkit's own series. No other family can hold such a suffixed name:
 * the rule above dropped it. What is dropped is told to the worker that sent it (never to the
 * workers whose series it collided with), so its scrape can report it.
 */
import type { MetricJson } from '../../messaging/metrics-reply.js';

/** The suffixes prom-client gives a metric's samples (`metricName`), by the metric's type. */
const kSuffixes: ReadonlyMap<string, readonly string[]> = new Map([
  ['histogram', ['_bucket', '_sum', '_count']],
  ['summary', ['_sum', '_count']],
]);

/** How many dropped names a report quotes; the rest are counted. */
const kQuotedNames = 3;

/**
 * Why a sample or a metric was dropped: named as clusterkit's (`clusterkit`), a sample named as
 * neither its metric nor a series its type writes (`not-its-name`), a metric named as a series a
 * histogram or summary of the merge writes (`series-of`: that family keeps the name), a metric of
 * another type than the one its name keeps (`other-type`).
 */
export type DropReason = 'clusterkit' | 'not-its-name' | 'series-of' | 'other-type';

export interface DroppedSeries {
  /** The worker metric concerned. */
  readonly metric: string;
  /** The sample name dropped; undefined when the whole metric was. */
  readonly sample?: string;
  readonly reason: DropReason;
  /** The metric's type in this answer (`series-of`, `other-type`). */
  readonly type?: string;
  /** `series-of`: the histogram or summary that keeps the name. */
  readonly owner?: string;
  /** `series-of`: that family's type; `other-type`: the type the name keeps. */
  readonly ownerType?: string;
}

/**
 * Keeps, in place, what each worker's metrics may write (see above) and returns, by slot, what
 * was dropped. `answers` are in slot order, the order prom-client's aggregation takes them (its
 * first answer gives a family's help and aggregator).
 */
export function keepOwnSeries(answers: Map<number, MetricJson[]>, reserved: ReadonlySet<string>): Map<number, DroppedSeries[]> {
  const dropped = new Map<number, DroppedSeries[]>();
  const note = (slot: number, entry: DroppedSeries) => {
    const list = dropped.get(slot);
    if (list) list.push(entry);
    else dropped.set(slot, [entry]);
  };
  const slots = [...answers.keys()].sort((a, b) => a - b);
  // A metric named as one of clusterkit's families is dropped whole (H278).
  for (const slot of slots) {
    answers.set(
      slot,
      answers.get(slot)!.filter((metric) => {
        if (!reserved.has(metric.name)) return true;
        note(slot, { metric: metric.name, reason: 'clusterkit' });
        return false;
      }),
    );
  }
  // Each name keeps one type: the one most workers give it, on a tie the lowest slot's (H317).
  const typeVotes = new Map<string, Map<string, number>>();
  for (const slot of slots) {
    for (const metric of answers.get(slot)!) {
      const votes = typeVotes.get(metric.name) ?? new Map<string, number>();
      votes.set(metric.type, (votes.get(metric.type) ?? 0) + 1);
      typeVotes.set(metric.name, votes);
    }
  }
  const keptType = new Map<string, string>();
  for (const [name, votes] of typeVotes) {
    // A Map iterates in insertion order, the lowest slot's type first: `>` keeps it on a tie.
    let best: [string, number] = ['', 0];
    for (const [type, count] of votes) if (count > best[1]) best = [type, count];
    keptType.set(name, best[0]);
  }
  // The families the merge writes, with the first (lowest-slot) answer's aggregator; 'omit' writes none.
  const written = new Map<string, string>();
  for (const slot of slots) {
    for (const metric of answers.get(slot)!) {
      if (metric.type === keptType.get(metric.name) && !written.has(metric.name)) written.set(metric.name, metric.aggregator ?? 'sum');
    }
  }
  // A histogram or summary keeps the names it writes: a family named as one of them is dropped
  // (a gauge `a_count` beside a histogram `a`, H317). Shorter names first, so a family dropped
  // so leaves its own suffixed names free (`a`, then `a_sum`, then `a_sum_count`).
  const families = new Set([...written].filter(([, aggregator]) => aggregator !== 'omit').map(([name]) => name));
  const owners = new Map<string, DroppedSeries>();
  const ownedBy = (name: string): { owner: string; ownerType: string } | undefined => {
    for (const [type, suffixes] of kSuffixes) {
      for (const suffix of suffixes) {
        const owner = name.slice(0, -suffix.length);
        if (name.endsWith(suffix) && families.has(owner) && !owners.has(owner) && keptType.get(owner) === type) return { owner, ownerType: type };
      }
    }
    return undefined;
  };
  for (const name of [...families].sort((a, b) => a.length - b.length)) {
    const owned = ownedBy(name);
    if (owned) owners.set(name, { metric: name, reason: 'series-of', ...owned });
  }
  for (const slot of slots) {
    answers.set(
      slot,
      answers.get(slot)!.filter((metric) => {
        const type = keptType.get(metric.name)!;
        if (metric.type !== type) {
          note(slot, { metric: metric.name, reason: 'other-type', type: metric.type, ownerType: type });
          return false;
        }
        const owned = owners.get(metric.name);
        if (owned === undefined) return true;
        note(slot, { ...owned, type: metric.type });
        return false;
      }),
    );
  }
  // Each sample named as its metric, or its metric's name plus a suffix its type writes.
  for (const slot of slots) {
    for (const metric of answers.get(slot)!) {
      const suffixes = kSuffixes.get(metric.type) ?? [];
      metric.values = metric.values.filter((value) => {
        const sample = value.metricName ?? metric.name;
        if (sample === metric.name) {
          delete value.metricName;
          return true;
        }
        const reason: DropReason | undefined = reserved.has(sample)
          ? 'clusterkit'
          : !suffixes.some((suffix) => sample === `${metric.name}${suffix}`)
          ? 'not-its-name'
          : undefined;
        if (reason === undefined) return true;
        note(slot, { metric: metric.name, sample, reason });
        return false;
      });
    }
  }
  return dropped;
}

/** What a worker's dropped series were, for its protocol error: the first few quoted with why, the rest counted. */
export function describeDroppedSeries(dropped: readonly DroppedSeries[]): string {
  // One line per name: a forged name in every value of a metric is told once, with its count.
  const byName = new Map<string, { entry: DroppedSeries; count: number }>();
  for (const entry of dropped) {
    const key = `${entry.metric}\0${entry.sample ?? ''}`;
    const seen = byName.get(key);
    if (seen) seen.count++;
    else byName.set(key, { entry, count: 1 });
  }
  // clusterkit's own series first: what an alert reads.
  const ordered = [...byName.values()].sort((a, b) => Number(b.entry.reason === 'clusterkit') - Number(a.entry.reason === 'clusterkit'));
  const quoted = ordered.slice(0, kQuotedNames).map(({ entry, count }) => {
    if (entry.reason === 'series-of') return `metric "${entry.metric}" (a ${entry.type} named as a series of the ${entry.ownerType} "${entry.owner}", which keeps the name)`;
    if (entry.reason === 'other-type') return `metric "${entry.metric}" (a ${entry.type} here, a ${entry.ownerType} in the workers that keep the name)`;
    if (entry.sample === undefined) return `metric "${entry.metric}" (named as one of clusterkit's own)`;
    const times = count > 1 ? ` x${count}` : '';
    const why = entry.reason === 'clusterkit' ? "one of clusterkit's own series" : `not "${entry.metric}" nor a series its type writes`;
    return `"${entry.sample}"${times} in metric "${entry.metric}" (${why})`;
  });
  const rest = byName.size - quoted.length;
  return `${quoted.join(', ')}${rest > 0 ? ` and ${rest} more name${rest === 1 ? '' : 's'}` : ''}`;
}
