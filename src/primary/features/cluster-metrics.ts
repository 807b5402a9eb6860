/**
 * `primary.metrics()`: one Prometheus text exposition for the whole cluster. Each ready
 * worker's prom-client registry is collected over clusterkit's own request/ack with a
 * timeout and merged with prom-client's AggregatorRegistry; a worker that does not answer in
 * time is left out of that scrape and counted in `clusterkit_worker_scrape_errors`, so one
 * silent worker never fails the whole scrape. clusterkit's own per-worker figures follow.
 */
import { kMetricsRequest } from '../../messaging/system-types.js';
import { loadPromClient } from '../../prom-client.js';
import type { PrimaryContext } from '../primary-context.js';
import { formatClusterMetrics } from './format-cluster-metrics.js';
import { collectStats } from './worker-stats.js';

/** Default time each worker has to answer a scrape. */
export const kDefaultScrapeTimeoutMs = 2_000;

export class ClusterMetrics {
  /** Failed scrapes by slot, since the primary started (a Prometheus counter). */
  readonly #scrapeErrors = new Map<number, number>();

  constructor(private readonly context: Pick<PrimaryContext, 'pool'>) {}

  async collect(timeoutMs: number): Promise<string> {
    const workers = [...this.context.pool.records].filter((record) => record.state === 'ready');
    const answers = await Promise.allSettled(workers.map((record) => record.endpoint.request(kMetricsRequest, undefined, timeoutMs)));
    const collected: unknown[][] = [];
    answers.forEach((answer, index) => {
      if (answer.status === 'fulfilled') {
        if (Array.isArray(answer.value)) collected.push(answer.value);
        return;
      }
      const slot = workers[index]!.slot.index;
      this.#scrapeErrors.set(slot, (this.#scrapeErrors.get(slot) ?? 0) + 1);
    });
    const own = formatClusterMetrics(collectStats(this.context.pool), this.#scrapeErrors);
    const promClient = collected.length > 0 ? await loadPromClient() : undefined;
    if (!promClient) return own;
    const aggregated = await promClient.AggregatorRegistry.aggregate(collected).metrics();
    return `${aggregated.trimEnd()}\n${own}`;
  }
}
