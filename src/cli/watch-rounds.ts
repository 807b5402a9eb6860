/**
 * The rounds of `clusterkit status --watch` over every cluster (H89). A round asks the clusters
 * and draws its frame once they all answered or `kDrawWaitMs` passed, whichever is first: a
 * cluster that does not answer never holds the healthy ones' redraw back. Its ask goes on in the
 * background (never two at once for one name), and an answer that comes late is drawn by the
 * next frame; meanwhile a cluster that answered before is drawn from its last status, not hidden
 * (a busy primary that answers in 2 s would otherwise blink out of every other frame). A cluster
 * that let a full ask time out is carried over as still silent, named in every frame, and asked
 * again only every `kReaskMs`, in a survey of its own: before, each round waited the full 5 s for
 * it, and 32 such sockets hid every cluster sorted after them. A short ask missed (the 300 ms a
 * survey gives once its 5 s are spent) proves no silence: that cluster is asked in full next round.
 */
import { setMaxListeners } from 'node:events';
import type { ClusterStatus } from '../control/control-protocol.js';
import { ownSocketNames, surveyClusters, unanswered, unansweredDetail, unansweredReason } from '../control/control-client.js';
import { ControlSocketError } from '../errors.js';
import type { UnansweredEntry } from './report-unanswered.js';

/** A frame waits at most this long for the round's answers (ms). */
export const kDrawWaitMs = 1_000;

/** A cluster whose ask timed out is asked again after this long, not every round (ms). */
export const kReaskMs = 10_000;

/** What one round drew: the statuses, and the clusters that run but gave none. */
export interface WatchFrame {
  readonly statuses: ClusterStatus[];
  readonly unanswered: UnansweredEntry[];
}

type Outcome = { status: ClusterStatus } | { error: Error; at: number };

export class WatchRounds {
  readonly #directory: string;
  readonly #timeoutMs: number;
  /** The latest outcome per name: set when an ask ends, dropped when the socket goes. */
  readonly #outcomes = new Map<string, Outcome>();
  /** Names with an ask out: a name is never asked twice at once. */
  readonly #asking = new Set<string>();
  /** Aborted by `close()`: asks still out end at once, so Ctrl-C quits at once. */
  readonly #abort = new AbortController();

  constructor(directory: string, timeoutMs: number) {
    this.#directory = directory;
    this.#timeoutMs = timeoutMs;
    // Each ask out listens on this signal until it ends: dozens at once with many silent
    // sockets, not a leak, and Node's warning past 10 would be printed into the user's terminal.
    setMaxListeners(0, this.#abort.signal);
  }

  async round(): Promise<WatchFrame> {
    const names = ownSocketNames(this.#directory);
    const present = new Set(names);
    for (const name of this.#outcomes.keys()) if (!present.has(name)) this.#outcomes.delete(name);
    const now = Date.now();
    const due = names.filter((name) => !this.#asking.has(name) && !this.#isResting(name, now));
    // The silent ones asked again get a survey of their own, which the frame does not wait for:
    // in one survey with the others they took its 32 connections and its first 5 s, and a
    // healthy cluster sorted after them got only the short ask, which a busy primary can miss.
    const reasks = due.filter((name) => this.#isSilent(name));
    // The ones that answered last time first: they get the connections before the unknown ones.
    const others = due.filter((name) => !this.#isSilent(name)).sort((a, b) => Number(!this.#hasStatus(a)) - Number(!this.#hasStatus(b)));
    void this.#ask(reasks);
    const survey = this.#ask(others);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([survey, new Promise((resolve) => (timer = setTimeout(resolve, kDrawWaitMs)))]);
    clearTimeout(timer);
    return this.#frame(names);
  }

  /** Ends the asks still out. */
  close(): void {
    this.#abort.abort();
  }

  /** One survey of `names`, each marked as asked until its outcome comes. */
  async #ask(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const name of names) this.#asking.add(name);
    await surveyClusters(this.#directory, this.#timeoutMs, {
      names,
      signal: this.#abort.signal,
      onResult: (name, outcome) => {
        this.#asking.delete(name);
        // Our own Ctrl-C ended it: nothing learned about the cluster.
        if (this.#abort.signal.aborted) return;
        if (outcome === undefined) this.#outcomes.delete(name);
        else this.#outcomes.set(name, 'status' in outcome ? outcome : { error: outcome.error, at: Date.now() });
      },
    });
  }

  /** A name whose last full ask timed out rests until `kReaskMs` after it. */
  #isResting(name: string, now: number): boolean {
    const outcome = this.#outcomes.get(name);
    return outcome !== undefined && 'error' in outcome && this.#isSilence(outcome.error) && now - outcome.at < kReaskMs;
  }

  /** Whether the last ask of `name` timed out in full. */
  #isSilent(name: string): boolean {
    const outcome = this.#outcomes.get(name);
    return outcome !== undefined && 'error' in outcome && this.#isSilence(outcome.error);
  }

  #hasStatus(name: string): boolean {
    const outcome = this.#outcomes.get(name);
    return outcome !== undefined && 'status' in outcome;
  }

  /**
   * An ask that waited its full time out: worth asking again only at a slower pace. The short
   * ask a survey gives once its first 5 s are spent is not: a healthy primary on a busy machine
   * can miss 300 ms, and resting it 10 s hid a healthy cluster for 10 s at a time.
   */
  #isSilence(error: Error): boolean {
    return error instanceof ControlSocketError && unansweredReason(error) === 'timeout' && (unansweredDetail(error).waitedMs ?? this.#timeoutMs) >= this.#timeoutMs;
  }

  #frame(names: readonly string[]): WatchFrame {
    const statuses: ClusterStatus[] = [];
    const unansweredClusters: UnansweredEntry[] = [];
    for (const name of names) {
      const outcome = this.#outcomes.get(name);
      const isSilent = this.#isSilent(name);
      if (outcome !== undefined && 'status' in outcome) {
        // Its next ask may be out, still within its time: its last status is at most that old,
        // and drawn (before, it was hidden as "not answered yet" in every frame drawn while an
        // ask was out, so a primary answering in more than 1 s was drawn in few of them).
        statuses.push(outcome.status);
      } else if (this.#asking.has(name) && !isSilent) {
        // Never answered (or failed last time) and asked now: no answer yet. A silent one asked
        // again stays "still silent" meanwhile.
        unansweredClusters.push({ name, error: unanswered('timeout', `The cluster "${name}" has not answered yet.`), isPending: true });
      } else if (outcome !== undefined) {
        unansweredClusters.push(isSilent ? { name, error: outcome.error, note: `still silent, asked again every ${kReaskMs / 1000} s` } : { name, error: outcome.error });
      }
    }
    return { statuses, unanswered: unansweredClusters };
  }
}
