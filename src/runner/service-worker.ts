/**
 * The worker side of the service runner and of `clusterkit run`: a `ClusterWorker` whose
 * `_init` imports the worker module (so an import error is an init failure the primary
 * reports, and counts toward the crash-loop breaker) and whose `_destroy` runs the user's
 * cleanup after the servers have drained.
 */
import { nameDestroyHook } from '../destroy-hook.js';
import { WorkerModuleError } from '../errors.js';
import { ClusterWorker } from '../worker/cluster-worker.js';
import { holdConnectionsUntil } from './connection-hold.js';
import { nameHealthPortClash, readableListenError } from './listen-error.js';
import { nameClusterHoldingPort } from './port-holder.js';
import { trackListeningServers, type ListenTracker } from './listen-tracker.js';
import { checkHasExports, loadModule, type ModuleRef } from './module-loader.js';
import type { WorkerShutdownInfo, WorkerStartupInfo } from './service-options.js';

export interface ServiceWorkerSpec<Module extends object> {
  readonly module: ModuleRef;
  /** Imports (or runs) the module. Whatever it throws becomes a `WorkerModuleError`. */
  /** The module's namespace in a box: a namespace with a `then` export must not be awaited (import-module.ts `importNamespace`). */
  readonly load: () => Promise<{ readonly namespace: Module }>;
  /** A module without exports is an error (the runner's contract; a plain script has none). */
  readonly requireExports: boolean;
  /** Register the servers the module listens on with `trackServer()`. */
  readonly trackServers: boolean;
  /**
   * Ready as soon as one server listens, even if the module's top-level code has not finished
   * (a script may end with a top-level `await` that never settles).
   */
  readonly readyOnListen: boolean;
  /**
   * Ready when this resolves (`clusterkit run --wait-ready`: the script called
   * `process.send('ready')`, PM2's wait_ready), not when a server listens. It may come while
   * the module's top-level code still runs (a top-level `await` that never settles).
   */
  readonly readySignal?: Promise<void> | undefined;
  /** The primary's health endpoint's port (`clusterkit run --health-port`): a listen refused on it names the clash. */
  readonly healthPort?: number | undefined;
  /**
   * A stop that comes while the module is still being imported (a top-level `await`) ends the
   * wait for it (`clusterkit run`, H217): under plain node, the stop's SIGTERM would end such a
   * script at once, where clusterkit's own listener held it until the primary's SIGKILL.
   */
  readonly endImportOnStop?: boolean | undefined;
  readonly onStartup?: ((info: WorkerStartupInfo<Module>) => void | Promise<void>) | undefined;
  readonly onShutdown?: ((info: WorkerShutdownInfo<Module>) => void | Promise<void>) | undefined;
}

export class ServiceWorker<Module extends object> extends ClusterWorker {
  readonly #spec: ServiceWorkerSpec<Module>;
  /** Set once the module is imported. */
  #module: Module | undefined;
  /** Set when a stop came while `_init` waited for the import (`endImportOnStop`): `_init` ends there. */
  #isImportEnded = false;

  constructor(spec: ServiceWorkerSpec<Module>) {
    super();
    this.#spec = spec;
    // No `onWorkerShutdown` (`clusterkit run`'s scripts): no `_destroy` of its own, so a stop
    // keeps no slice of its time for one, and the requests get it all (stop-margin.ts, H350).
    if (spec.onShutdown === undefined) this._destroy = super._destroy;
    // Its `_destroy` runs the user's `onWorkerShutdown`: lines about it name that (H694).
    else nameDestroyHook(this, () => 'onWorkerShutdown');
  }

  /** The imported module namespace; undefined until it finished importing. */
  get workerModule(): Module | undefined {
    return this.#module;
  }

  protected override async _init(): Promise<void> {
    const spec = this.#spec;
    // A stop asked while the script warms up ends the wait for its word: the worker stops at
    // once, as a ready one does, not at the primary's SIGKILL when the shutdown timeout ends.
    // It is not ready for it (the primary counts it as stopped before ready), and the
    // connections held for it go to the script, whose drain answers or ends them.
    const readySignal = spec.readySignal && Promise.race([spec.readySignal, new Promise<void>((resolve) => this.once('shutdown', () => resolve()))]);
    const tracker = spec.trackServers
      ? trackListeningServers((server) => {
          this.trackServer(server);
          // node:cluster hands a listening worker connections before the script says ready.
          if (readySignal) holdConnectionsUntil(server, readySignal);
        })
      : undefined;
    const loaded = this.#endsOnStop(this.#loadAndListen(tracker));
    const readyEarly = readySignal ?? (spec.readyOnListen && tracker ? tracker.firstListening : undefined);
    if (readyEarly) {
      const first = await Promise.race([loaded.then(() => 'loaded' as const), readyEarly.then(() => 'ready' as const)]);
      // Ready already: a later failure of the module's top-level code crashes the worker, as
      // it would crash a plain `node script.js`, and the primary restarts it.
      if (first === 'ready') loaded.catch((error: unknown) => process.nextTick(() => { throw error; }));
      // Loaded and listening, but the script said it warms up first: wait for its word,
      // bounded by the primary's ready timeout.
      else if (readySignal) await readySignal;
    } else {
      await loaded;
    }
    // The stop ended the import (H217): nothing of the script is there to check or start, and
    // the worker is not ready (worker-lifecycle.ts sends no `$ready` once a stop began, H273).
    if (this.#isImportEnded) return;
    tracker?.markReady();
    if (spec.requireExports) checkHasExports(spec.module, this.#module!);
    await spec.onStartup?.({ workerModule: this.#module!, pid: process.pid, workerId: this.id });
  }

  protected override async _destroy(): Promise<void> {
    if (this.#module) await this.#spec.onShutdown?.({ workerModule: this.#module, pid: process.pid, workerId: this.id });
  }

  /**
   * With `endImportOnStop`: settles at a stop too, so the stop goes on (the script's own
   * SIGTERM listeners, if it has any yet, then the exit) with the import still pending. The
   * primary counts the worker as stopped before it was ready. An import that fails after the
   * stop began is the stop's business no more: the worker is on its way out.
   */
  #endsOnStop(loaded: Promise<void>): Promise<void> {
    if (!this.#spec.endImportOnStop) return loaded;
    const stopped = new Promise<void>((resolve) => this.once('shutdown', () => resolve()));
    return Promise.race([
      loaded,
      stopped.then(() => {
        this.#isImportEnded = true;
        void loaded.catch(() => {});
      }),
    ]);
  }

  async #loadAndListen(tracker: ListenTracker | undefined): Promise<void> {
    const ref = this.#spec.module;
    this.#module = (await loadModule(ref, this.#spec.load)).namespace;
    if (!tracker) return;
    await tracker.settled().catch((error: unknown) => {
      // Held by another cluster of this user (its primary, not ours: process.ppid): named (H403).
      const cause = nameClusterHoldingPort(nameHealthPortClash(readableListenError(error), this.#spec.healthPort), process.ppid);
      throw new WorkerModuleError(ref.path, 'listen-failed', { cause, noun: ref.noun });
    });
  }
}
