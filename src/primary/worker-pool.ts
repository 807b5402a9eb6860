/**
 * The primary's workers: slots, spawning, lifecycle bookkeeping, exit classification and
 * restarts. `ClusterPrimary` is the facade; this is the engine behind it.
 */
import type { Address } from 'node:cluster';
import {
  CrashLoopError,
  InvalidArgumentError,
  ShutdownInProgressError,
  WorkerExitedError,
  WorkerStartupError,
  describeExit,
} from '../errors.js';
import { Endpoint } from '../messaging/endpoint.js';
import { isClusterKitMessage } from '../messaging/envelope.js';
import { kArmWatchdogNotice } from '../messaging/system-types.js';
import { decideRestart } from './restart-policy.js';
import { RoundRobin } from './round-robin.js';
import { Slot, type SlotSpec } from './slot.js';
import { spawnWorker } from './spawn-worker.js';
import { WorkerHandle } from './worker-handle.js';
import { WorkerRecord } from './worker-record.js';
import type { PoolHost } from './pool-host.js';

/** How long a worker whose IPC channel closed may take to exit before it is killed. */
const kDisconnectGraceMs = 1_000;

export class WorkerPool {
  readonly #host: PoolHost;
  /** Workers not yet exited, by cluster worker id. */
  readonly #records = new Map<number, WorkerRecord>();
  readonly #slots = new Set<Slot>();
  readonly rotation = new RoundRobin<WorkerRecord>();
  #isClosed = false;
  /** Set once the initial workers are ready; from then on a worker is armed at its ready. */
  #armsWatchdogs = false;

  constructor(host: PoolHost) {
    this.#host = host;
  }

  /** Live workers (starting, ready or stopping), oldest first. */
  get records(): IterableIterator<WorkerRecord> {
    return this.#records.values();
  }

  get slots(): ReadonlySet<Slot> {
    return this.#slots;
  }

  get size(): number {
    return this.#records.size;
  }

  record(id: number): WorkerRecord | undefined {
    return this.#records.get(id);
  }

  /** The live worker of the active slot named `name`. */
  recordByName(name: string): WorkerRecord | undefined {
    for (const slot of this.#slots) {
      if (slot.spec.name === name && !slot.isRetired) return slot.current?.state === 'exited' ? undefined : slot.current;
    }
    return undefined;
  }

  /** Slots still served (not stopped on purpose, not crash-looped), oldest first. */
  activeSlots(): Slot[] {
    return [...this.#slots].filter((slot) => !slot.isRetired);
  }

  /** Adds `count` slots and resolves with their first ready workers (rejects if one gives up). */
  addSlots(count: number, spec: SlotSpec): Promise<WorkerHandle[]> {
    if (spec.name !== undefined && this.activeSlots().some((slot) => slot.spec.name === spec.name)) {
      return Promise.reject(new InvalidArgumentError(`A worker named "${spec.name}" already exists; worker names are unique. Stop it first, or pick another name.`));
    }
    const slots: Slot[] = [];
    for (let i = 0; i < count; i++) {
      const slot = new Slot(this.#lowestFreeSlotIndex(), spec);
      this.#slots.add(slot);
      slots.push(slot);
      this.launch(slot);
    }
    return Promise.all(slots.map((slot) => slot.firstReady.promise));
  }

  /** Forks a worker for `slot`. It becomes the slot's current worker unless `asIncoming`. */
  launch(slot: Slot, asIncoming = false): WorkerRecord {
    const clusterWorker = spawnWorker(this.#host.options, slot.index, slot.spec);
    const record = new WorkerRecord(clusterWorker, slot, this);
    record.handle = new WorkerHandle(record);
    record.endpoint = this.#createEndpoint(record);
    this.#records.set(record.id, record);
    if (!asIncoming) slot.current = record;
    this.#attach(record);
    record.readyTimer = setTimeout(() => this.#onReadyTimeout(record), this.#host.options.readyTimeoutMs);
    this.#host.emit('workerFork', { worker: record.handle });
    return record;
  }

  /** Slot numbers stay in 0..N-1 (like PM2's NODE_APP_INSTANCE): a freed number is reused. */
  #lowestFreeSlotIndex(): number {
    const used = new Set([...this.#slots].map((slot) => slot.index));
    let index = 0;
    while (used.has(index)) index++;
    return index;
  }

  /** Marks a worker ready: it joins the round-robin and its waiters resolve. */
  markReady(record: WorkerRecord): void {
    if (record.state !== 'starting') return;
    clearTimeout(record.readyTimer);
    record.readyTimer = undefined;
    record.state = 'ready';
    record.readyAt = Date.now();
    record.lastSeenAt = record.readyAt;
    this.rotation.add(record, record.slot.spec.tags);
    if (this.#armsWatchdogs) armWatchdog(record);
    this.#host.emit('workerReady', { worker: record.handle });
    record.whenReady.resolve();
    if (record.slot.current === record) record.slot.firstReady.resolve(record.handle);
  }

  /** Arms the orphan watchdogs of the ready workers, and of every worker once ready. */
  armWatchdogs(): void {
    this.#armsWatchdogs = true;
    for (const record of this.#records.values()) if (record.state === 'ready') armWatchdog(record);
  }

  /** Takes a worker out of service (no new round-robin picks) before it is stopped. */
  markStopping(record: WorkerRecord): void {
    record.stopRequested = true;
    if (record.state === 'exited' || record.state === 'stopping') return;
    record.state = 'stopping';
    this.rotation.remove(record);
  }

  /** Retires every slot and cancels pending restarts: nothing is forked from now on. */
  close(): void {
    this.#isClosed = true;
    for (const slot of this.#slots) this.retire(slot, new ShutdownInProgressError('The primary is shutting down; no worker will be started.'));
  }

  /** Stops restarting `slot`; its `fork()` waiters, if any, reject with `reason`. */
  retire(slot: Slot, reason: Error): void {
    slot.isRetired = true;
    slot.cancelRestart();
    slot.firstReady.reject(reason);
    // Its number and name are free again once its last worker is gone.
    if (!slot.current || slot.current.state === 'exited') this.#slots.delete(slot);
    else void slot.current.whenExited.promise.then(() => this.#slots.delete(slot));
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #createEndpoint(record: WorkerRecord): Endpoint {
    const options = this.#host.options;
    return new Endpoint({
      port: record.clusterWorker.process,
      serialization: options.serialization,
      maxMessageBytes: options.maxMessageBytes,
      defaultTimeoutMs: options.messageTimeoutMs,
      maxPending: options.maxPendingPerWorker,
      backpressure: options.backpressure,
      describePeer: () => record.describe(),
      onInbound: (type, payload, isRequest) => this.#host.onInbound(record, type, payload, isRequest),
      channelClosedError: (type) => new WorkerExitedError(record.exitDescription(), `(its IPC channel is closed) before "${type}" was delivered`),
      onError: (error) => this.#host.reportError(error),
      // Opened by the worker's $hello: until it listens, Node would drop what we send.
      held: true,
      hasManyPeers: true,
    });
  }

  #attach(record: WorkerRecord): void {
    const worker = record.clusterWorker;
    worker.process.on('message', (message: unknown) => {
      record.lastSeenAt = Date.now();
      if (isClusterKitMessage(message)) record.endpoint.receive(message);
    });
    worker.on('online', () => this.#host.emit('workerOnline', { worker: record.handle }));
    worker.on('listening', (address: Address) => {
      record.isListening = true;
      record.whenListening.resolve();
      this.#host.emit('workerListening', { worker: record.handle, address });
    });
    worker.on('disconnect', () => this.#onDisconnect(record));
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.#onExit(record, code, signal));
    // Always listened to: an unheard 'error' on a Worker (a send to a dead channel) would crash the primary.
    worker.on('error', (error: Error) => this.#onProcessError(record, error));
  }

  #onProcessError(record: WorkerRecord, error: Error): void {
    if (record.pid === undefined) {
      // The spawn itself failed (ENOENT, EAGAIN...): there will be a 'disconnect' but never an 'exit'.
      record.startupError = new WorkerStartupError(record.id, 'spawn-failed', `Worker ${record.id} could not be spawned: ${error.message}`, { cause: error });
      this.#host.emit('workerError', { worker: record.handle, error });
      this.#onExit(record, null, null);
      return;
    }
    this.#host.emit('workerError', { worker: record.handle, error });
  }

  #onDisconnect(record: WorkerRecord): void {
    if (record.state === 'exited') return;
    this.#host.emit('workerDisconnect', { worker: record.handle });
    this.rotation.remove(record);
    // No reply can arrive any more. The exit normally follows within milliseconds and says how
    // the worker died; a worker that lingers without its channel is useless and is killed.
    record.disconnectTimer = setTimeout(() => {
      record.endpoint.close((type) => new WorkerExitedError(record.exitDescription(), `(its IPC channel closed) before it replied to "${type}"`));
      record.clusterWorker.process.kill('SIGKILL');
    }, kDisconnectGraceMs);
  }

  #onReadyTimeout(record: WorkerRecord): void {
    record.readyTimer = undefined;
    if (record.state !== 'starting') return;
    const timeoutMs = this.#host.options.readyTimeoutMs;
    record.startupError = new WorkerStartupError(
      record.id,
      'ready-timeout',
      `${capitalize(record.describe())} was not ready within ${timeoutMs} ms (option "readyTimeoutMs"), so it was killed. ` +
        'Its _init() may be waiting on something that never comes; raise the option if startup is legitimately slow.',
    );
    record.clusterWorker.process.kill('SIGKILL');
  }

  #onExit(record: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    if (record.state === 'exited') return; // 'error' without pid and a late 'exit' may both come
    const wasReady = record.readyAt !== undefined;
    clearTimeout(record.readyTimer);
    clearTimeout(record.disconnectTimer);
    record.state = 'exited';
    record.exitCode = code;
    record.signal = signal;
    this.rotation.remove(record);
    this.#records.delete(record.id);
    record.endpoint.close((type) => new WorkerExitedError(record.exitDescription(), `before it replied to "${type}"`));
    if (!wasReady) record.whenReady.reject(this.#startupFailure(record));
    this.#host.emit('workerExit', { worker: record.handle, code, signal, expected: record.stopRequested });
    record.whenExited.resolve({ code, signal });
    if (record.slot.current === record) this.#afterSlotWorkerExit(record, wasReady);
  }

  #afterSlotWorkerExit(record: WorkerRecord, wasReady: boolean): void {
    const slot = record.slot;
    if (record.stopRequested || slot.isRetired || this.#isClosed) return;
    const uptimeMs = Date.now() - record.startedAt;
    if (record.exitCode !== 0 || record.signal) {
      this.#host.emit('workerCrash', { worker: record.handle, code: record.exitCode, signal: record.signal, uptimeMs });
    }
    const policy = this.#host.options.restart;
    const cause = wasReady ? new WorkerExitedError(record.exitDescription(), 'while it was running') : this.#startupFailure(record);
    if (policy === false) {
      this.retire(slot, cause);
      return;
    }
    // Stability is time spent ready, not since the fork: a slow _init is no stable run.
    const readyMs = record.readyAt === undefined ? 0 : Date.now() - record.readyAt;
    const decision = decideRestart(slot.history, { wasReady, readyMs }, policy, Date.now());
    slot.history = decision.history;
    if (!decision.restart) {
      const error = new CrashLoopError(slot.index, decision.failures, { cause });
      this.retire(slot, error);
      this.#host.emit('crashLoop', {
        slot: slot.index,
        name: slot.spec.name,
        failures: decision.failures,
        reason: decision.reason,
        error,
        remainingSlots: this.activeSlots().length,
      });
      return;
    }
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (slot.isRetired || this.#isClosed || slot.current !== record) return;
      slot.restarts++;
      const next = this.launch(slot);
      this.#host.emit('workerRestart', { previous: record.handle, worker: next.handle, delayMs: decision.delayMs, attempt: decision.attempt });
    }, decision.delayMs);
  }

  /** Why a worker that exited before ready failed to start. */
  #startupFailure(record: WorkerRecord): Error {
    if (record.startupError) return record.startupError;
    return new WorkerStartupError(
      record.id,
      'exited',
      `${capitalize(record.describe())} ${describeExit(record.exitCode, record.signal, record.pid)} before it was ready. ` +
        'Check its output for the error; a worker script must create a ClusterWorker and call start().',
    );
  }
}

function armWatchdog(record: WorkerRecord): void {
  if (record.isConnected) record.endpoint.notify(kArmWatchdogNotice, undefined);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

