/**
 * The listening addresses the primary holds for all its workers together. Each `listen()` in a
 * worker asks node:cluster in the primary for a socket (`queryServer`), one per distinct handle
 * key (`address:port:addressType:fd:index`, lib/internal/cluster/primary.js): workers listening
 * on the same key share one socket, so a key counts once here, however many workers hold it.
 *
 * The channel guard bounds one worker at 256 addresses (`kMaxServersPerWorker`); without a total,
 * 5 workers each just under it took a primary with 1024 descriptors to 1024/1024, its control
 * socket stopped answering and `clusterkit list` said no cluster ran. The total is half the
 * process's open-file limit (Node raises its soft limit to the hard one at start; read from
 * /proc/self/limits on Linux), leaving the other half for the workers' channels and pipes,
 * connections and the control socket; `kFallbackMaxClusterServers` where it cannot be read.
 *
 * One count per process, not per primary: descriptors are the process's, and node:cluster's
 * handles are shared by every primary in it.
 */
import { readFileSync } from 'node:fs';
import { captureRoundRobinServer, RoundRobinIntake } from './round-robin-intake.js';
import { steerRoundRobin } from './silent-steer.js';

/** The cluster-wide bound where the open-file limit cannot be read (not Linux), or is unlimited. */
export const kFallbackMaxClusterServers = 1024;

/** Half the open-file soft limit in `limits` (the text of /proc/self/limits), or undefined. */
export function halfOpenFileLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (!match || match[1] === 'unlimited') return undefined;
  return Math.max(1, Math.floor(Number(match[1]) / 2));
}

/**
 * Half the process's open-file limit (a count of descriptors), or undefined where it
 * cannot be read (not Linux) or is unlimited. Read once: Node raised the soft limit at start.
 */
export function halfOpenFiles(): number | undefined {
  if (halfOpenFilesRead === false) {
    try {
      halfOpenFilesRead = halfOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
    } catch {
      halfOpenFilesRead = undefined;
    }
  }
  return halfOpenFilesRead;
}

let halfOpenFilesRead: number | undefined | false = false;

function readMaxClusterServers(): number {
  return halfOpenFiles() ?? kFallbackMaxClusterServers;
}

export class ClusterListens {
  /** Per handle key, how many workers hold it (at least 1: a key no worker holds is removed). */
  readonly #holders = new Map<string, number>();
  /**
   * Per key held, the number it got when its first holder came: node:cluster makes one
   * round-robin handle per such run of holders, so a new number is a new handle.
   */
  readonly #generations = new Map<string, number>();
  #lastGeneration = 0;
  /** Per key held with round-robin scheduling: its listening socket and the connections accepted on it (round-robin-intake.ts). */
  readonly #intakes = new Map<string, RoundRobinIntake>();
  /**
   * Per key no worker holds any more whose socket a shutdown closed and node:cluster has not
   * dropped yet: it drops it once the last worker is both disconnected and exited, the channel
   * guard releases at the first of the two (`whenClosedGone`).
   */
  readonly #closing = new Map<string, RoundRobinIntake>();
  /** Requests to listen held in `whenClosedGone` now. */
  #waitingListens = 0;
  #max: number | undefined;

  /** `max`: the bound; read from the open-file limit at first use when not given. */
  constructor(max?: number) {
    this.#max = max;
  }

  /** Distinct listening addresses held for workers now. */
  get size(): number {
    return this.#holders.size;
  }

  /** The most distinct addresses held at once, cluster-wide. */
  get max(): number {
    this.#max ??= readMaxClusterServers();
    return this.#max;
  }

  /** True when one more worker may hold `key`: it is already held (shared), or there is room. */
  mayHold(key: string): boolean {
    return this.#holders.has(key) || this.#holders.size < this.max;
  }

  hold(key: string): void {
    const holders = this.#holders.get(key) ?? 0;
    if (holders === 0) this.#generations.set(key, ++this.#lastGeneration);
    this.#holders.set(key, holders + 1);
  }

  /**
   * One worker no longer holds `key` (closed, failed, or the worker is gone). Returns how many
   * connections the primary had accepted on it that no worker took, when that was its last
   * holder: node:cluster resets them (round-robin-intake.ts); else 0.
   */
  release(key: string): number {
    const holders = this.#holders.get(key);
    if (holders === undefined) return 0;
    if (holders <= 1) {
      this.#holders.delete(key);
      this.#generations.delete(key);
      const intake = this.#intakes.get(key);
      this.#intakes.delete(key);
      if (intake !== undefined && !intake.isAccepting && !intake.isDropped) {
        this.#closing.set(key, intake);
        void intake.whenDropped().then(() => this.#closing.get(key) === intake && this.#closing.delete(key));
      }
      return intake?.release() ?? 0;
    }
    this.#holders.set(key, holders - 1);
    return 0;
  }

  /**
   * Runs `run`, node:cluster's handling of a worker's request to listen on `key` (held already):
   * when it creates the key's round-robin handle, its listening socket is watched from then on
   * (`intake(key)`), and the handle passes silent workers over (silent-steer.ts, H378).
   */
  whileListening<T>(key: string, run: () => T): T {
    if (this.#intakes.has(key)) return run();
    let intake: RoundRobinIntake | undefined;
    const result = captureRoundRobinServer(
      run,
      (server) => {
        intake = new RoundRobinIntake();
        intake.attach(server);
      },
      steerRoundRobin,
    );
    if (intake !== undefined && this.#holders.has(key)) this.#intakes.set(key, intake);
    return result;
  }

  /** The connections accepted on `key`'s round-robin socket (undefined: not held, or not round-robin). */
  intake(key: string): RoundRobinIntake | undefined {
    return this.#intakes.get(key);
  }

  /**
   * Resolves once node:cluster dropped `key`'s handle (it closes the listening socket as the
   * handle's last worker leaves), when a shutdown closed that socket (`RoundRobinIntake.stopAccepting`)
   * while workers still hold it; undefined when the socket is open (or not round-robin). Until
   * then, a worker of another primary of the process that asks to listen on `key` is added to the
   * closed socket's handle: its listen fails (EADDRINUSE), or it is told it listens and never gets
   * a connection, the handle kept for it once the shutdown's workers left (H369). Its request
   * waits for this instead; node:cluster then makes a new handle and socket.
   */
  whenClosedGone(key: string): Promise<void> | undefined {
    const intake = this.#intakes.get(key) ?? this.#closing.get(key);
    if (intake === undefined || intake.isAccepting || intake.isDropped) return undefined;
    this.#waitingListens++;
    return intake.whenDropped().finally(() => this.#waitingListens--);
  }

  /** Requests to listen waiting in `whenClosedGone` now, on every key. */
  get waitingListens(): number {
    return this.#waitingListens;
  }

  /** How many workers hold `key` now (in every primary of the process). */
  holders(key: string): number {
    return this.#holders.get(key) ?? 0;
  }

  /**
   * Which run of holders holds `key` now (undefined: none). Two equal answers at two moments
   * mean the same node:cluster handle served the key all along.
   */
  generation(key: string): number | undefined {
    return this.#generations.get(key);
  }
}

/** The listening addresses of every worker of this process's primaries. */
export const processListens = new ClusterListens();
