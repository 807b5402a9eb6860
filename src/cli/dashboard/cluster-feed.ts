/**
 * What the dashboard shows, read from the cluster's control socket once a second: a `status`
 * (as `clusterkit status` reads it) and the lifecycle events since the last read. It keeps the
 * last 10 minutes of samples and events, so a page opened (or reloaded) late starts with
 * history, and pushes every change to its subscribers.
 *
 * The primary does no more work than for `clusterkit status --watch`: the figures are those of
 * the heartbeat it runs anyway, and the events come from its bounded log, by cursor (read more
 * often while it stops, H386). The timeline outlives the primary: a primary gone and the next
 * one are marked in it, never a reason to drop it.
 */
import { ClusterNotRunningError, RemoteError } from '../../errors.js';
import { controlRequest } from '../../control/control-client.js';
import type { ClusterEvent, ClusterStatus, EventsPage } from '../../control/control-protocol.js';
import { slotNotes, type SlotNote } from '../format-status.js';
import { Sampler, type Sample } from './samples.js';
import { toReadableError } from '../../readable-error.js';

/** How often the page is updated. */
export const kFeedIntervalMs = 1_000;
/** How much history the feed and the page keep. */
export const kHistoryMs = 10 * 60_000;
/** A primary that does not answer within this is reported as not answering (it may be blocked). */
const kRequestTimeoutMs = 5_000;
/** Events kept for a page opened late (the primary keeps 1024), the marks of primaries gone and started among them. */
export const kKeptEvents = 1_000;
/**
 * How often a stopping primary's log is read (after its `shutdown` event, or while its status says
 * `stopping`): its last events (the workers' exits) come within its last second, and its socket
 * closes with it; read once a second, they were lost (H386). Events only: the figures stay at one a second.
 */
export const kStoppingPollMs = 100;

/**
 * A mark the feed adds to the timeline (H386): a primary went away, or another primary answers
 * under the name. `stopped`: it removed its control socket (a stop), or was replaced after its
 * `shutdown` was read; `lost`: it left its socket behind, or was replaced without a `shutdown`
 * read (killed, crashed).
 */
export type PrimaryMark =
  | { type: 'primaryGone'; at: number; pid: number; how: 'stopped' | 'lost' }
  | { type: 'primaryStarted'; at: number; pid: number; previousPid: number };

/**
 * One timeline entry: an event of a primary's log, with `primaryPid`, the primary that logged it
 * (each primary's `seq` starts at 1, so `primaryPid` + `seq` names an event), or a mark.
 */
export type TimelineEvent = (ClusterEvent & { primaryPid?: number }) | PrimaryMark;

/** What the feed pushes to its subscribers. */
export type FeedUpdate =
  | { kind: 'tick'; sample: Sample; status: ClusterStatus; slotNotes: SlotNote[] }
  | { kind: 'events'; events: TimelineEvent[]; missed: number }
  | { kind: 'offline'; message: string };

/** Everything a page needs to start: the history and the latest state. */
export interface FeedSnapshot {
  name: string;
  intervalMs: number;
  historyMs: number;
  samples: Sample[];
  /** Oldest first, across the primaries that answered under the name, with their marks (H386). */
  events: TimelineEvent[];
  /** Events the primary's log overwrote before the feed could read them. */
  missed: number;
  status: ClusterStatus | undefined;
  /**
   * The slots of `status` without a ready worker that `clusterkit status` notes under its table
   * (H416): failing in a crash loop (`restarting` through its back-off, `starting` again), or
   * given up (`errored`), each with the line the CLI prints; `[]` before the first status.
   */
  slotNotes: SlotNote[];
  /** Why the cluster cannot be read right now; null while it answers (a key of every snapshot, explorer t60). */
  offline: string | null;
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
  readonly #events: TimelineEvent[] = [];
  readonly #subscribers = new Set<(update: FeedUpdate) => void>();
  /** Updates published so far (`version`). */
  #version = 0;
  #status: ClusterStatus | undefined;
  #offline: string | undefined;
  #missed = 0;
  /** The newest event seq read, for the primary whose pid is `#pid`. */
  #cursor = 0;
  #pid: number | undefined;
  /** The last primary that answered, kept when it goes: a primary answering after it is marked as started. */
  #lastPid: number | undefined;
  /** The primary `#pid` logged its `shutdown` (or said `stopping`): its going is a stop, not a loss. */
  #isStopping = false;
  /** When the last figures were read: a stopping primary's rounds in between read events only. */
  #lastSampleAt = 0;
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
      slotNotes: this.#status === undefined ? [] : slotNotes(this.#status),
      offline: this.#offline ?? null,
    };
  }

  #schedule(): void {
    if (this.#isStopped) return;
    // Each round starts when the previous one ended: a slow primary is never asked twice at once.
    const next = () => this.#schedule();
    const delay = this.#isStopping && this.#pid !== undefined ? Math.min(kStoppingPollMs, this.#intervalMs) : this.#intervalMs;
    this.#timer = setTimeout(() => void this.#round(false).then(next, next), delay);
  }

  async #round(isFirst: boolean): Promise<void> {
    const options = { timeoutMs: kRequestTimeoutMs, ...(this.#directory === undefined ? {} : { directory: this.#directory }) };
    // A stopping primary is read for its events alone between the rounds that read its figures.
    const isEventsOnly = !isFirst && this.#isStopping && this.#pid !== undefined && Date.now() - this.#lastSampleAt < this.#intervalMs;
    let status: ClusterStatus | undefined;
    let page: EventsPage;
    try {
      if (!isEventsOnly) {
        status = (await controlRequest(this.#name, 'status', options)) as ClusterStatus;
        if (status.pid !== this.#pid) this.#newPrimary(status.pid);
      }
      page = await this.#readEvents(options);
    } catch (error) {
      if (isFirst) throw error;
      if (this.#isStopped) return;
      // Not running (it stopped, or was SIGKILLed), not answering (blocked, exiting), or
      // answering with an error: the page says which, and the next round tries again.
      // A socket left behind names a primary that ended without stopping (killed); a stop removes it.
      if (error instanceof ClusterNotRunningError) this.#primaryGone(error.deadPrimary === undefined ? 'stopped' : 'lost');
      this.#setOffline(error instanceof ClusterNotRunningError ? `cluster ${this.#name} is not running` : describe(error));
      return;
    }
    if (this.#isStopped) return;
    if (status === undefined && page.last < this.#cursor) {
      // Its log went back: another primary answered the events-only read. Its figures next, then its events.
      this.#lastSampleAt = 0;
      return;
    }
    this.#addEvents(page);
    if (status === undefined) return;
    this.#offline = undefined;
    if (status.state === 'stopping') this.#isStopping = true;
    const sample = this.#sampler.take(status, Date.now());
    this.#lastSampleAt = sample.t;
    this.#status = status;
    this.#samples.push(sample);
    const horizon = sample.t - kHistoryMs;
    while (this.#samples.length > 0 && this.#samples[0]!.t < horizon) this.#samples.shift();
    this.#publish({ kind: 'tick', sample, status, slotNotes: slotNotes(status) });
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
    // Replaced within a round (SIGKILLed and restarted by its launcher): the old one went first.
    if (this.#pid !== undefined) this.#primaryGone();
    const previousPid = this.#lastPid;
    this.#pid = pid;
    this.#lastPid = pid;
    this.#isStopping = false;
    this.#cursor = 0;
    this.#sampler.reset();
    // The history stays: the timeline tells the outage (H386). The first primary read is no news.
    if (previousPid !== undefined) this.#addMark({ type: 'primaryStarted', at: Date.now(), pid, previousPid });
  }

  /**
   * The primary `#pid` no longer answers: marked once, `how` it went when known (its socket was
   * left behind: lost; removed: stopped), else (replaced within a round) from its log: stopped
   * when its `shutdown` was read.
   */
  #primaryGone(how?: 'stopped' | 'lost'): void {
    if (this.#pid === undefined) return;
    const pid = this.#pid;
    this.#pid = undefined;
    this.#addMark({ type: 'primaryGone', at: Date.now(), pid, how: how ?? (this.#isStopping ? 'stopped' : 'lost') });
    this.#isStopping = false;
  }

  #addMark(mark: PrimaryMark): void {
    this.#keep([mark]);
    this.#publish({ kind: 'events', events: [mark], missed: 0 });
  }

  #addEvents(page: EventsPage): void {
    this.#cursor = page.last;
    if (page.events.length === 0 && page.missed === 0) return;
    this.#missed += page.missed;
    const primaryPid = this.#pid!;
    const events = page.events.map((event) => ({ ...event, primaryPid }));
    if (page.events.some((event) => event.type === 'shutdown')) this.#isStopping = true;
    this.#keep(events);
    this.#publish({ kind: 'events', events, missed: page.missed });
  }

  /** Adds to the kept timeline, dropping the oldest beyond `kKeptEvents`. */
  #keep(events: TimelineEvent[]): void {
    this.#events.push(...events);
    if (this.#events.length > kKeptEvents) this.#events.splice(0, this.#events.length - kKeptEvents);
  }

  #setOffline(message: string): void {
    if (this.#offline === message) return;
    this.#offline = message;
    this.#publish({ kind: 'offline', message });
  }

  #publish(update: FeedUpdate): void {
    this.#version++;
    for (const subscriber of this.#subscribers) subscriber(update);
  }

  /** Moves at each update: a snapshot's JSON built at one version serves every request until the next (dashboard-server.ts). */
  get version(): number {
    return this.#version;
  }
}

function describe(error: unknown): string {
  if (error instanceof RemoteError) return `cluster status failed: ${error.remoteMessage}`;
  return toReadableError(error).message;
}
