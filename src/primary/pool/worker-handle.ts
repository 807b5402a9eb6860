/**
 * The read-only view of a worker that users get from events, `workers`, `roundRobin()`...
 * Pass it back to `send()`, `notify()` or `stopWorker()`.
 */
import type { Worker as ClusterWorkerProcess } from 'node:cluster';
import type { WorkerHealth, WorkerRecord, WorkerState } from './worker-record.js';

const records = new WeakMap<WorkerHandle, WorkerRecord>();

/** @internal The record behind a handle, or undefined for anything that is not a handle. */
export function recordOf(handle: unknown): WorkerRecord | undefined {
  return typeof handle === 'object' && handle !== null ? records.get(handle as WorkerHandle) : undefined;
}

export class WorkerHandle {
  /** @internal Handles are created by the primary. */
  constructor(record: WorkerRecord) {
    records.set(this, record);
  }

  get #record(): WorkerRecord {
    return records.get(this)!;
  }

  /** The cluster worker id (`cluster.worker.id` inside the worker); unique for the process's lifetime. */
  get id(): number {
    return this.#record.id;
  }

  /** Process id; `undefined` if the process could not be spawned. */
  get pid(): number | undefined {
    return this.#record.pid;
  }

  get state(): WorkerState {
    return this.#record.state;
  }

  /** When it was forked (ms since the epoch). */
  get startedAt(): number {
    return this.#record.startedAt;
  }

  /** When it became ready (ms since the epoch), if it did. */
  get readyAt(): number | undefined {
    return this.#record.readyAt;
  }

  /** Slot number, kept across restarts and reloads (`CLUSTERKIT_SLOT` in the worker). */
  get slot(): number {
    return this.#record.slot.index;
  }

  /** The name given to `fork({ name })`, kept across restarts. */
  get name(): string | undefined {
    return this.#record.slot.spec.name;
  }

  /** The roles given to `fork({ roles })`, kept across restarts: `roundRobin({ role })` picks among them. */
  get roles(): readonly string[] {
    return this.#record.slot.spec.roles;
  }

  /** How many workers this slot had before this one (restarts and replacements). */
  get restarts(): number {
    return this.#record.restartsBefore;
  }

  /** How many of this slot's workers ended without the primary's asking (`WorkerStats.crashes`). */
  get crashes(): number {
    return this.#record.slot.crashes;
  }

  /** True while the IPC channel is open. */
  get isConnected(): boolean {
    return this.#record.isConnected;
  }

  /** Has it started listening on a server port? */
  get isListening(): boolean {
    return this.#record.isListening;
  }

  /** Exit code, once exited normally. */
  get exitCode(): number | null {
    return this.#record.exitCode;
  }

  /** Signal that ended it, once killed. */
  get signal(): NodeJS.Signals | null {
    return this.#record.signal;
  }

  /** Its latest heartbeat report (memory, event-loop delay), if any. */
  get health(): Readonly<WorkerHealth> | undefined {
    return this.#record.health;
  }

  /** The underlying `node:cluster` worker. */
  get clusterWorker(): ClusterWorkerProcess {
    return this.#record.clusterWorker;
  }

  toJSON(): object {
    return { id: this.id, pid: this.pid, slot: this.slot, name: this.name, state: this.state };
  }
}
