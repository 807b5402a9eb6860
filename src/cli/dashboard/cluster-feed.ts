/**
 * What the dashboard shows, read from the cluster's control socket once a second: a `status`
 * (as `clusterkit status` reads it) and the lifecycle events since the last read. It keeps the
 * last 10 minutes of samples and events, so a page opened (or reloaded) late starts with
 * history, and pushes every change to its subscribers.
 *
 * The primary does no more work than for `clusterkit status --watch`: the figures are those of
 * the heartbeat it runs anyway, and the events come from its bounded log, by cursor.
 */
import { ClusterNotRunningError, RemoteError } from '../../errors.js';
import { controlRequest } from '../../control/control-client.js';
import type { ClusterEvent, ClusterStatus, EventsPage } from '../../control/control-protocol.js';
import { Sampler, type Sample } from './samples.js';
import { toReadableError } from '../../readable-error.js';

/** How often the page is updated. */
export const kFeedIntervalMs = 1_000;
/** How much history the feed and the page keep. */
export const kHistoryMs = 10 * 60_000;
/** A primary that does not answer within this is reported as not answering (it may be blocked). */
const kRequestTimeoutMs = 5_000;
/** Events kept for a page opened late (the primary keeps 1024). */
const kKeptEvents = 1_000;

/** What the feed pushes to its subscribers. */
export type FeedUpdate =
  | { kind: 'tick'; sample: Sample; status: ClusterStatus }
  | { kind: 'events'; events: ClusterEvent[]; missed: number }
  | { kind: 'offline'; message: string };

/** Everything a page needs to start: the history and the latest state. */
export interface FeedSnapshot {
  name: string;
  intervalMs: number;
  historyMs: number;
  samples: Sample[];
  events: ClusterEvent[];
  /** Events the primary's log overwrote before the feed could read them. */
  missed: number;
  status: ClusterStatus | undefined;
  /** Why the cluster cannot be read right now; undefined while it answers. */
  offline: string | undefined;
}

export interface FeedOptions {
  name: string;
  intervalMs?: number;
  /** The control directory (tests); the user's by default. */
  directory?: string;
}

export class ClusterFeed {
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #directory: string | undefined;
  readonly #sampler = new Sampler();
  readonly #samples: Sample[] = [];
  readonly #events: ClusterEvent[] = [];
  readonly #subscribers = new Set<(update: FeedUpdate) => void>();
  #status: ClusterStatus | undefined;
  #offline: string | undefined;
  #missed = 0;
  /** The newest event seq read, for the primary whose pid is `#pid`. */
  #cursor = 0;
  #pid: number | undefined;
  /** Armed between rounds; cleared by stop(). */
  #timer: NodeJS.Timeout | undefined;
  #isStopped = false;

  constructor(options: FeedOptions) {
    this.#name = options.name;
    this.#intervalMs = options.intervalMs ?? kFeedIntervalMs;
    this.#directory = options.directory;
  }

  /**
   * Reads the cluster once, then every interval.
   * @throws ClusterNotRunningError when no cluster of that name runs (as `clusterkit status`).
   */
  async start(): Promise<void> {
    await this.#round(true);
    this.#schedule();
  }

  stop(): void {
    this.#isStopped = true;
    clearTimeout(this.#timer);
    this.#subscribers.clear();
  }

  /** Calls `listener` with every update until the returned function is called. */
  subscribe(listener: (update: FeedUpdate) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  snapshot(): FeedSnapshot {
    return {
      name: this.#name,
      intervalMs: this.#intervalMs,
      historyMs: kHistoryMs,
      samples: this.#samples,
      events: this.#events,
      missed: this.#missed,
      status: this.#status,
      offline: this.#offline,
    };
  }

  #schedule(): void {
    if (this.#isStopped) return;
    // Each round starts when the previous one ended: a slow primary is never asked twice at once.
    const next = () => this.#schedule();
    this.#timer = setTimeout(() => void this.#round(false).then(next, next), this.#intervalMs);
  }

  async #round(isFirst: boolean): Promise<void> {
    const options = { timeoutMs: kRequestTimeoutMs, ...(this.#directory === undefined ? {} : { directory: this.#directory }) };
    let status: ClusterStatus;
    let page: EventsPage;
    try {
      status = (await controlRequest(this.#name, 'status', options)) as ClusterStatus;
      if (status.pid !== this.#pid) this.#newPrimary(status.pid);
      page = await this.#readEvents(options);
    } catch (error) {
      if (isFirst) throw error;
      if (this.#isStopped) return;
      // Not running (it stopped, or was SIGKILLed), not answering (blocked, exiting), or
      // answering with an error: the page says which, and the next round tries again.
      if (error instanceof ClusterNotRunningError) this.#pid = undefined;
      this.#setOffline(error instanceof ClusterNotRunningError ? `cluster ${this.#name} is not running` : describe(error));
      return;
    }
    if (this.#isStopped) return;
    this.#offline = undefined;
    this.#addEvents(page);
    const sample = this.#sampler.take(status, Date.now());
    this.#status = status;
    this.#samples.push(sample);
    const horizon = sample.t - kHistoryMs;
    while (this.#samples.length > 0 && this.#samples[0]!.t < horizon) this.#samples.shift();
    this.#publish({ kind: 'tick', sample, status });
  }

  async #readEvents(options: { timeoutMs: number; directory?: string }): Promise<EventsPage> {
    try {
      return (await controlRequest(this.#name, 'events', { ...options, after: this.#cursor })) as EventsPage;
    } catch (error) {
      // A primary of a clusterkit without the event log refuses the command: figures only.
      if (error instanceof RemoteError) return { events: [], last: this.#cursor, missed: 0 };
      throw error;
    }
  }

  /** Another primary answers under this name (restarted): its worker ids and events start over. */
  #newPrimary(pid: number): void {
    this.#pid = pid;
    this.#cursor = 0;
    this.#sampler.reset();
  }

  #addEvents(page: EventsPage): void {
    this.#cursor = page.last;
    if (page.events.length === 0 && page.missed === 0) return;
    this.#missed += page.missed;
    this.#events.push(...page.events);
    if (this.#events.length > kKeptEvents) this.#events.splice(0, this.#events.length - kKeptEvents);
    this.#publish({ kind: 'events', events: page.events, missed: page.missed });
  }

  #setOffline(message: string): void {
    if (this.#offline === message) return;
    this.#offline = message;
    this.#publish({ kind: 'offline', message });
  }

  #publish(update: FeedUpdate): void {
    for (const subscriber of this.#subscribers) subscriber(update);
  }
}

function describe(error: unknown): string {
  if (error instanceof RemoteError) return `cluster status failed: ${error.remoteMessage}`;
  return toReadableError(error).message;
}
