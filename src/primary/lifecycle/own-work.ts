/**
 * clusterkit's own long synchronous work in the primary, kept for a while so that a report of the
 * primary's blocked event loop (PrimaryBlockedError, H470) can say how much of the block was
 * clusterkit's, and what to change. Hostile tester t63: 20 scrapes of 80,000 series per worker
 * blocked the primary in stretches of 1.2 to 2.4 s, and the warning told the user to move long
 * synchronous work out of the primary, when the only such work was clusterkit's merge of the
 * workers' metrics pages.
 */

/** What the work was, in the report's words, and what to change. */
export interface OwnWorkKind {
  /** `reading, merging and sending the workers' metrics pages for scrapes (primary.metrics(), /metrics)`. */
  readonly what: string;
  /** `register fewer series in the workers ..., or scrape less often`. */
  readonly advice: string;
}

/** A scrape's work: the reads of the workers' answers (worker-pool.ts), their merge (cluster-metrics.ts), the answers' writing (metrics-answers.ts). */
export const kMetricsMerge: OwnWorkKind = {
  what: "reading, merging and sending the workers' metrics pages for scrapes (primary.metrics(), /metrics)",
  advice: 'register fewer series in the workers (labels with many values make many), or scrape less often',
};

/**
 * `clusterkit run --watch` taking in a storm of file changes (H650): chokidar's reads, stats and
 * watches of the files written or deleted, which run on the primary's thread. Hostile tester t64b:
 * 50,000 files made and deleted under a watched directory blocked the primary for 3 to 6 s at a
 * time, and the warning told the user, who has no code in `clusterkit run`'s primary, to move
 * long synchronous work out of it.
 */
export const kWatchIntake: OwnWorkKind = {
  what: 'taking in a storm of file changes under the paths --watch watches',
  advice: 'leave data and output directories out of the watch with --ignore-watch (ignoreWatch in the config file)',
};

/**
 * Relaying the workers' `sendTo()` requests (relay.ts): each forwarded to its target, its answer
 * back. Hostile tester t67: one worker's 20,000 `sendTo()` at once blocked the primary for 5 to
 * 17 s on a loaded machine, and the warning told the user to move long synchronous work out of
 * a primary whose only work was that relaying.
 */
export const kRelayWork: OwnWorkKind = {
  what: "relaying the workers' sendTo() requests to their targets",
  advice: 'send fewer sendTo() at once from one worker (await them in batches of a few hundred), or lower maxPendingPerWorker',
};

/** Stretches kept: enough for an episode of stalls of many scrapes; the oldest go first. */
const kKept = 256;
/** A stretch shorter than this is not kept (ms): a slow read's threshold (channel-guard.ts `kBusyReadMs`). */
const kMinMs = 10;

interface Stretch {
  readonly kind: OwnWorkKind;
  /** Wall clock (ms since the epoch), as the stall's episode is measured. */
  readonly startAt: number;
  readonly endAt: number;
}

export class OwnWork {
  readonly #stretches: Stretch[] = [];

  /** Notes `kind` of work from `startAt` to `endAt` (ms since the epoch, `Date.now()`). */
  note(kind: OwnWorkKind, startAt: number, endAt: number): void {
    if (endAt - startAt < kMinMs) return;
    this.#stretches.push({ kind, startAt, endAt });
    if (this.#stretches.length > kKept) this.#stretches.shift();
  }

  /**
   * Notes `kind` of work from `startAt` to `endAt`, the stretch noted last made longer when it is
   * the same one (the same kind and start): a stretch noted as it goes, such as a storm of changes.
   */
  extend(kind: OwnWorkKind, startAt: number, endAt: number): void {
    const last = this.#stretches.at(-1);
    if (last !== undefined && last.kind === kind && last.startAt === startAt) this.#stretches[this.#stretches.length - 1] = { kind, startAt, endAt };
    else this.note(kind, startAt, endAt);
  }

  /**
   * The work within `[fromAt, toAt]` (ms since the epoch), in ms, and the kind that took most of
   * it; undefined for none.
   */
  within(fromAt: number, toAt: number): { ms: number; kind: OwnWorkKind } | undefined {
    const byKind = new Map<OwnWorkKind, number>();
    for (const { kind, startAt, endAt } of this.#stretches) {
      const ms = Math.min(endAt, toAt) - Math.max(startAt, fromAt);
      if (ms > 0) byKind.set(kind, (byKind.get(kind) ?? 0) + ms);
    }
    let most: { ms: number; kind: OwnWorkKind } | undefined;
    let total = 0;
    for (const [kind, ms] of byKind) {
      total += ms;
      if (most === undefined || ms > most.ms) most = { ms, kind };
    }
    return most === undefined ? undefined : { ms: total, kind: most.kind };
  }
}

/**
 * clusterkit's own work outside any primary's pool, in this process: the `--watch` intake of
 * `clusterkit run`, which runs beside the primary on its thread. A stall of the event loop is the
 * process's, so each primary's report counts it (`ownWorkWithin`).
 */
export const processOwnWork = new OwnWork();

/** The work of `ledgers` within `[fromAt, toAt]` (ms since the epoch): their sum, and the kind that took most. */
export function ownWorkWithin(ledgers: readonly OwnWork[], fromAt: number, toAt: number): { ms: number; kind: OwnWorkKind } | undefined {
  let found: { ms: number; kind: OwnWorkKind; most: number } | undefined;
  for (const ledger of ledgers) {
    const work = ledger.within(fromAt, toAt);
    if (work === undefined) continue;
    if (found === undefined) found = { ...work, most: work.ms };
    else found = { ms: found.ms + work.ms, kind: work.ms > found.most ? work.kind : found.kind, most: Math.max(found.most, work.ms) };
  }
  return found === undefined ? undefined : { ms: found.ms, kind: found.kind };
}
