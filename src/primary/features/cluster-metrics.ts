/**
 * `primary.metrics()`: one Prometheus text exposition for the whole cluster. Each ready
 * worker's prom-client registry is collected over clusterkit's own request/ack with a
 * timeout and merged with prom-client's AggregatorRegistry; a worker that does not answer in
 * time is left out of that scrape and counted in `clusterkit_worker_scrape_errors_total`, so one
 * silent worker never fails the whole scrape. A worker whose answer fails its check
 * (metrics-reply.ts) is left out the same way, and its answer counts as a `bad-metrics` protocol
 * error naming the metric and the field.
 * clusterkit's own per-worker figures follow. A worker metric named as one of clusterkit's own
 * families is left out: the family would be written twice (H278); so is a worker's sample not
 * named as its own metric (a `metricName` naming clusterkit's series or another metric's, H308,
 * worker-series.ts), and a metric named as a series of another's histogram or summary or typed
 * unlike most workers type its name (H317); each is told as the worker's protocol error (`misnamed-series`).
 * Answers the primary cannot merge because prom-client cannot be loaded in its process are left
 * out too, never without a word (H523, unmerged-metrics.ts): counted in
 * `clusterkit_worker_series_dropped_total{reason="no-prom-client"}` at each scrape, and told once
 * per primary (`metricsDropped`, a WARN of the default logger).
 *
 * The deadline counts replies that reached the primary in time even when the primary was busy
 * (pending.ts): a large registry's reply is announced by its first bytes, and waited for.
 */
import { MetricsScrapeError, RemoteError } from '../../errors.js';
import { completeMetrics, describeMetricsProblem, type MetricJson } from '../../messaging/metrics-reply.js';
import { kMetricsRequest } from '../../messaging/system-types.js';
import { loadPromClient, promClientLoadError, type PromClientModule } from '../../prom-client.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { PrimaryContext } from '../primary-context.js';
import { formatClusterMetrics, kOwnFamilies, scrapeErrorKey, type ScrapeErrorCount } from './format-cluster-metrics.js';
import { collectGivenUp } from './given-up-stats.js';
import { OutcomeCounts } from './outcome-counts.js';
import type { SharedStore } from './shared-store.js';
import { collectStats } from './worker-stats.js';
import { describeDroppedSeries, keepOwnSeries } from './worker-series.js';
import { countUnmerged, type SeriesDroppedReason } from './unmerged-metrics.js';
import { kMetricsMerge } from '../lifecycle/own-work.js';

/** Takes any reply: a metrics answer is checked by `describeMetricsProblem`, which says what fails. */
const isAnyReply = (_reply: unknown): _reply is unknown => true;

/** Default time each worker has to answer a scrape. */
export const kDefaultScrapeTimeoutMs = 2_000;

export class ClusterMetrics {
  /** Failed scrapes by slot and name (scrapeErrorKey), since the primary started (a Prometheus counter). */
  readonly #scrapeErrors = new Map<string, ScrapeErrorCount>();
  /** Series of checked answers left out of the exposition, by reason, since the primary started (a Prometheus counter, H523). */
  readonly #seriesDropped = new Map<SeriesDroppedReason, number>();
  /** Set at the first scrape that left out series for want of prom-client: `metricsDropped` is emitted once per primary. */
  #isDropTold = false;
  /** The collection under way: calls meanwhile share it. */
  #running: Promise<string> | undefined;
  /** The workers whose registry threw, told once each (H666). */
  readonly #toldThrown = new WeakSet<WorkerRecord>();

  constructor(
    private readonly context: Pick<PrimaryContext, 'pool' | 'system' | 'options' | 'emit' | 'reportWarning'>,
    private readonly store: SharedStore,
    private readonly outcomes: OutcomeCounts = new OutcomeCounts(),
  ) {}

  /**
   * The exposition; a call while a collection runs gets that collection's (its `timeoutMs`), for
   * `primary.metrics()` and every health endpoint alike: each is an IPC round to every worker,
   * whose registries answer one after another. Retest t63b: 20 `primary.metrics()` at once had
   * the workers build 20 pages of 80,000 series each, busy 28 to 60 s (`/readyz` 503 all along,
   * once both killed by the heartbeat), while 20 scrapes of `/metrics`, shared, took 2 s.
   */
  collect(timeoutMs: number): Promise<string> {
    if (this.#running !== undefined) return this.#running;
    const collection = this.#collect(timeoutMs).finally(() => {
      if (this.#running === collection) this.#running = undefined;
    });
    this.#running = collection;
    return collection;
  }

  async #collect(timeoutMs: number): Promise<string> {
    const { pool, system } = this.context;
    // In slot order: prom-client's merge takes a family's help and aggregator from its first answer.
    // Not a worker whose process is gone (its verdict waiting for its channel, H462): nothing would answer.
    const workers = [...pool.records].filter((record) => record.shownState() === 'ready').sort((a, b) => a.slot.index - b.slot.index);
    const answers = await Promise.allSettled(workers.map((record) => system.request(record, record.endpoint, kMetricsRequest, undefined, isAnyReply, timeoutMs)));
    // From here to the end the work is clusterkit's own, synchronous but for the awaits of cached
    // modules and prom-client's microtasks: noted, so a stall of the primary it causes names it.
    let startAt = Date.now();
    const collected = new Map<number, MetricJson[]>();
    answers.forEach((answer, index) => {
      const record = workers[index]!;
      if (answer.status === 'rejected') {
        this.#tellThrown(record, answer.reason, timeoutMs);
        return this.#countError(record);
      }
      // Checked here, not by the request: what fails comes from the worker's registry, and its report names the metric (t33 LOW-C).
      const problem = describeMetricsProblem(answer.value);
      if (problem !== undefined) {
        system.reportDropped(record, 'bad-metrics', kMetricsRequest, problem);
        this.#countError(record);
      } else if (answer.value) collected.set(record.slot.index, completeMetrics(answer.value as MetricJson[]));
    });
    for (const [slot, dropped] of keepOwnSeries(collected, kOwnFamilies)) {
      const record = workers.find((worker) => worker.slot.index === slot)!;
      // One protocol error per series (sample, or metric left out whole): `dropped=` counts them (H325).
      system.reportDropped(record, 'misnamed-series', kMetricsRequest, describeDroppedSeries(dropped), dropped.length);
    }
    pool.ownWork.note(kMetricsMerge, startAt, Date.now());
    const promClient = collected.size > 0 ? await loadPromClient() : undefined;
    // Its first load reads files: not counted.
    startAt = Date.now();
    if (collected.size > 0 && promClient === undefined) this.#dropUnmerged(collected);
    const aggregated = promClient ? await this.#aggregate(promClient, collected, workers) : undefined;
    const { maxStoreBytes, maxStoreKeys } = this.context.options;
    const store = { bytes: this.store.bytes, keys: this.store.size, maxBytes: maxStoreBytes, maxKeys: maxStoreKeys };
    const figures = {
      targetWorkers: pool.targetCount,
      givenUp: collectGivenUp(pool),
      crashLoops: pool.crashLoops,
      outcomes: this.outcomes.figures(pool.connectionsReset),
      seriesDropped: this.#seriesDropped,
    };
    const own = formatClusterMetrics(collectStats(pool, this.context.options.heartbeat), this.#scrapeErrors.values(), store, figures);
    pool.ownWork.note(kMetricsMerge, startAt, Date.now());
    return aggregated === undefined ? own : `${aggregated.trimEnd()}\n${own}`;
  }

  /**
   * The registries merged by prom-client. The answers passed their check, so this should not
   * throw; if prom-client ever does, the answers it cannot take are found one by one and left
   * out as scrape errors: the scrape never fails as a whole.
   */
  async #aggregate(promClient: PromClientModule, collected: Map<number, MetricJson[]>, workers: readonly WorkerRecord[]): Promise<string | undefined> {
    const merge = async (answers: MetricJson[][]) => promClient.AggregatorRegistry.aggregate(answers).metrics();
    try {
      return await merge([...collected.values()]);
    } catch {
      const usable = new Map<number, MetricJson[]>();
      for (const [slot, metrics] of collected) {
        if (await merge([metrics]).then(() => true, () => false)) usable.set(slot, metrics);
        else this.#countError(workers.find((worker) => worker.slot.index === slot)!);
      }
      if (usable.size === 0) return undefined;
      // Each merges alone but not with the others: left out as scrape errors, not without a word (H523).
      return merge([...usable.values()]).catch(() => {
        for (const slot of usable.keys()) this.#countError(workers.find((worker) => worker.slot.index === slot)!);
        return undefined;
      });
    }
  }

  /**
   * The workers answered with series and prom-client cannot be loaded here to merge them: they
   * are counted as left out at every scrape, and told once per primary with what to do (H523:
   * before, they were dropped without a word, and /metrics looked healthy).
   */
  #dropUnmerged(collected: Map<number, MetricJson[]>): void {
    const unmerged = countUnmerged(collected.values());
    if (unmerged.series === 0) return;
    this.#seriesDropped.set('no-prom-client', (this.#seriesDropped.get('no-prom-client') ?? 0) + unmerged.series);
    if (this.#isDropTold) return;
    this.#isDropTold = true;
    const { workers, series, metrics, metricCount } = unmerged;
    this.context.emit('metricsDropped', { reason: 'no-prom-client', workers, series, metrics, metricCount, error: promClientLoadError() });
  }

  /**
   * A worker whose registry threw (its answer a `RemoteError`): said once per worker, with the
   * error (hostile t67, H666: a custom metric's get() that threw left out all of the worker's
   * series, with no word and the error lost). A timeout is only counted: a blocked or dying
   * worker misses a scrape as a matter of course, and its own lines say why.
   */
  #tellThrown(record: WorkerRecord, reason: unknown, timeoutMs: number): void {
    if (!(reason instanceof RemoteError) || this.#toldThrown.has(record)) return;
    this.#toldThrown.add(record);
    this.context.reportWarning(new MetricsScrapeError(record.describe(), 'threw', timeoutMs, { cause: reason }));
  }

  /** One more failed scrape of the record's slot, under its name: the labels of the slot's other series (H351). */
  #countError(record: WorkerRecord): void {
    const { index: slot, spec } = record.slot;
    const key = scrapeErrorKey(slot, spec.name);
    this.#scrapeErrors.set(key, { slot, name: spec.name, count: (this.#scrapeErrors.get(key)?.count ?? 0) + 1 });
  }
}
