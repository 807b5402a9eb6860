/**
 * The rounds of `clusterkit status --watch` over every cluster (H89). A round asks the clusters
 * and draws its frame once they all answered or `kDrawWaitMs` passed, whichever is first: a
 * cluster that does not answer never holds the healthy ones' redraw back. Its ask goes on in the
 * background (never two at once for one name), and an answer that comes late is drawn by the
 * next frame. A cluster that let an ask time out is carried over as still silent, named in every
 * frame, and asked again only every `kReaskMs`: before, each round waited the full 5 s for it,
 * and 32 such sockets hid every cluster sorted after them.
 */
import { setMaxListeners } from 'node:events';
import type { ClusterStatus } from '../control/control-protocol.js';
import { ownSocketNames, surveyClusters, unanswered, unansweredReason } from '../control/control-client.js';
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
    const toAsk = names.filter((name) => !this.#asking.has(name) && !this.#isResting(name, now));
    // The ones that answered last time first: they get the connections before the silent ones.
    toAsk.sort((a, b) => Number('error' in (this.#outcomes.get(a) ?? { status: 0 })) - Number('error' in (this.#outcomes.get(b) ?? { status: 0 })));
    for (const name of toAsk) this.#asking.add(name);
    const survey = surveyClusters(this.#directory, this.#timeoutMs, {
      names: toAsk,
      signal: this.#abort.signal,
      onResult: (name, outcome) => {
        this.#asking.delete(name);
        if (outcome === undefined) this.#outcomes.delete(name);
        else this.#outcomes.set(name, 'status' in outcome ? outcome : { error: outcome.error, at: Date.now() });
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([survey, new Promise((resolve) => (timer = setTimeout(resolve, kDrawWaitMs)))]);
    clearTimeout(timer);
    return this.#frame(names);
  }

  /** Ends the asks still out. */
  close(): void {
    this.#abort.abort();
  }

  /** A name whose last ask timed out rests until `kReaskMs` after it. */
  #isResting(name: string, now: number): boolean {
    const outcome = this.#outcomes.get(name);
    return outcome !== undefined && 'error' in outcome && isSilence(outcome.error) && now - outcome.at < kReaskMs;
  }

  #frame(names: readonly string[]): WatchFrame {
    const statuses: ClusterStatus[] = [];
    const unansweredClusters: UnansweredEntry[] = [];
    for (const name of names) {
      const outcome = this.#outcomes.get(name);
      const isSilent = outcome !== undefined && 'error' in outcome && isSilence(outcome.error);
      // An ask still out now was out for the frame's whole wait (or began in an earlier round):
      // no answer yet, whatever the last one said (a status drawn now could be stale). A silent
      // one asked again stays "still silent" meanwhile.
      if (this.#asking.has(name) && !isSilent) {
        unansweredClusters.push({ name, error: unanswered('timeout', `The cluster "${name}" has not answered yet.`), isPending: true });
      } else if (outcome === undefined) continue;
      else if ('status' in outcome) statuses.push(outcome.status);
      else unansweredClusters.push(isSilent ? { name, error: outcome.error, note: `still silent, asked again every ${kReaskMs / 1000} s` } : { name, error: outcome.error });
    }
    return { statuses, unanswered: unansweredClusters };
  }
}

/** An ask that waited its time out: worth asking again only at a slower pace. */
function isSilence(error: Error): boolean {
  return error instanceof ControlSocketError && unansweredReason(error) === 'timeout';
}
