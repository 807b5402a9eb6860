/**
 * The primary's lifecycle: start, fork, stop one worker, shutdown, reload. Operations are
 * serialized by state: nothing forks after shutdown began, a second shutdown or reload returns
 * the first one's promise, and a reload during shutdown is refused.
 */
import { InvalidStateError, ShutdownInProgressError } from '../errors.js';
import { toReadableError } from '../readable-error.js';
import { PrimaryHeartbeat } from './heartbeat.js';
import type { NormalizedForkOptions } from './fork-options.js';
import type { ShutdownReport } from './primary-events.js';
import type { NormalizedPrimaryOptions } from './primary-options.js';
import { installPrimarySignals } from './primary-signals.js';
import type { PoolHost } from './pool-host.js';
import { replaceWorker, rollingReload } from './reload.js';
import { stopWorker, type StopOutcome } from './stop-worker.js';
import type { WorkerHandle } from './worker-handle.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerRecord } from './worker-record.js';

export type PrimaryState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface ControlHost {
  readonly pool: WorkerPool;
  readonly options: NormalizedPrimaryOptions;
  readonly emit: PoolHost['emit'];
  readonly reportError: (error: Error) => void;
  readonly init: () => Promise<void>;
  readonly destroy: () => Promise<void>;
}

export class PrimaryControl {
  readonly #host: ControlHost;
  #state: PrimaryState = 'created';
  /** True once `_init` completed: only then does shutdown run `_destroy`. */
  #isInitialized = false;
  #shutdown: Promise<ShutdownReport> | undefined;
  #reload: Promise<void> | undefined;
  /** Removes the process signal handlers; set while they are installed. */
  #uninstallSignals: (() => void) | undefined;
  readonly #heartbeat: PrimaryHeartbeat | undefined;
  /** Run when shutdown begins (stop accepting traffic) and when it ends (release the rest). */
  readonly #shutdownHooks = { start: [] as Array<() => Promise<void>>, end: [] as Array<() => Promise<void>> };

  constructor(host: ControlHost) {
    this.#host = host;
    const { heartbeat, maxMemoryMb } = host.options;
    if (heartbeat) {
      this.#heartbeat = new PrimaryHeartbeat(host.pool, heartbeat, maxMemoryMb, {
        onUnresponsive: (record, silentMs) => {
          host.emit('workerUnresponsive', { worker: record.handle, silentMs });
          record.clusterWorker.process.kill('SIGKILL');
        },
        onMemoryLimit: (record, rssBytes, limitBytes) => {
          host.emit('workerMemoryLimit', { worker: record.handle, rssBytes, limitBytes });
          this.#replace(record);
        },
      });
    }
  }

  get state(): PrimaryState {
    return this.#state;
  }

  /** Registers work for the start or the end of shutdown (closing listeners, health servers). */
  onShutdown(phase: 'start' | 'end', hook: () => Promise<void>): void {
    this.#shutdownHooks[phase].push(hook);
  }

  async start(): Promise<WorkerHandle[]> {
    if (this.#state !== 'created') throw new InvalidStateError(`start() can be called once; the primary is ${this.#state}.`);
    this.#state = 'starting';
    if (this.#host.options.handleSignals) this.#uninstallSignals = installPrimarySignals(this, this.#host);
    const { emit } = this.#host;
    emit('initialize', {});
    try {
      await this.#host.init();
    } catch (error) {
      emit('initializeError', { error: toError(error) });
      await this.shutdown(this.#host.options.shutdownTimeoutMs);
      throw error;
    }
    this.#isInitialized = true;
    emit('initializeComplete', {});
    try {
      const handles = await this.#host.pool.addSlots(this.#host.options.workerCount, { name: undefined, tags: [], env: {} });
      this.#host.pool.armWatchdogs();
      if (this.#state === 'starting') this.#state = 'running';
      this.#heartbeat?.start();
      return handles;
    } catch (error) {
      // The initial workers cannot come up: stop whatever did, so nothing is left behind.
      await this.shutdown(this.#host.options.shutdownTimeoutMs);
      throw error;
    }
  }

  fork(spec: NormalizedForkOptions): Promise<WorkerHandle[]> {
    if (this.#state === 'created') return Promise.reject(new InvalidStateError('Call start() before fork().'));
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new ShutdownInProgressError('The primary is shutting down; fork() is refused.'));
    }
    return this.#host.pool.addSlots(spec.count, spec);
  }

  /** Grows or shrinks the pool to `count` workers; surplus workers stop gracefully, newest first. */
  async scale(count: number): Promise<void> {
    if (this.#state !== 'running') {
      throw this.#state === 'stopping' || this.#state === 'stopped'
        ? new ShutdownInProgressError('The primary is shutting down; scale() is refused.')
        : new InvalidStateError('scale() needs a started primary; await start() first.');
    }
    const slots = this.#host.pool.activeSlots();
    if (count > slots.length) {
      await this.#host.pool.addSlots(count - slots.length, { name: undefined, tags: [], env: {} });
      return;
    }
    const surplus = slots.slice(count).reverse();
    await Promise.all(surplus.filter((slot) => slot.current).map((slot) => this.stopWorker(slot.current!, this.#host.options.shutdownTimeoutMs)));
  }

  stopWorker(record: WorkerRecord, timeoutMs: number): Promise<StopOutcome> {
    this.#host.pool.retire(record.slot, new InvalidStateError(`${record.describe()} was stopped before it was ready.`));
    return stopWorker(this.#host.pool, record, timeoutMs);
  }

  shutdown(timeoutMs: number, signal?: NodeJS.Signals): Promise<ShutdownReport> {
    this.#shutdown ??= this.#runShutdown(timeoutMs, signal);
    return this.#shutdown;
  }

  reload(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new ShutdownInProgressError('The primary is shutting down; reload() is refused.'));
    }
    if (this.#state !== 'running') return Promise.reject(new InvalidStateError('reload() needs a started primary; await start() first.'));
    this.#reload ??= rollingReload(this.#reloadContext()).finally(() => {
      this.#reload = undefined;
    });
    return this.#reload;
  }

  async #runShutdown(timeoutMs: number, signal: NodeJS.Signals | undefined): Promise<ShutdownReport> {
    const { pool, emit } = this.#host;
    this.#state = 'stopping';
    this.#heartbeat?.stop();
    pool.close();
    emit('shutdown', { timeoutMs, ...(signal ? { signal } : {}) });
    await this.#runHooks('start');
    const records = [...pool.records];
    const outcomes = await Promise.all(records.map((record) => stopWorker(pool, record, timeoutMs)));
    if (this.#isInitialized) await this.#runDestroy();
    this.#state = 'stopped';
    this.#uninstallSignals?.();
    this.#uninstallSignals = undefined;
    const report: ShutdownReport = {
      graceful: records.filter((_, index) => outcomes[index] === 'graceful').map((record) => record.handle),
      killed: records.filter((_, index) => outcomes[index] === 'killed').map((record) => record.handle),
    };
    emit('shutdownComplete', report);
    await this.#runHooks('end');
    return report;
  }

  async #runHooks(phase: 'start' | 'end'): Promise<void> {
    const hooks = this.#shutdownHooks[phase].splice(0);
    const results = await Promise.allSettled(hooks.map((hook) => hook()));
    for (const result of results) if (result.status === 'rejected') this.#host.reportError(toError(result.reason));
  }

  async #runDestroy(): Promise<void> {
    const { emit } = this.#host;
    emit('destroy', {});
    try {
      await this.#host.destroy();
      emit('destroyComplete', {});
    } catch (error) {
      emit('destroyComplete', { error: toError(error) });
      this.#host.reportError(toError(error));
    }
  }

  #replace(record: WorkerRecord): void {
    if (this.#state !== 'running' || record.stopRequested) return;
    replaceWorker(this.#reloadContext(), record).catch((error: unknown) => this.#host.reportError(toError(error)));
  }

  #reloadContext() {
    return { pool: this.#host.pool, options: this.#host.options, emit: this.#host.emit, isRunning: () => this.#state === 'running' };
  }
}

function toError(value: unknown): Error {
  return toReadableError(value);
}
