/**
 * Events of `ClusterPrimary`. Every listener gets one payload object. Worker events start with
 * `worker`. Events observe; hooks (`_init`, `_destroy`) change behaviour.
 */
import type { Address } from 'node:cluster';
import type { CrashLoopError, ProtocolError, RemoteError } from '../errors.js';
import type { MessageType, PayloadOf, ReplyOf } from '../types.js';
import type { StoreChange } from './features/shared-store.js';
import type { WorkerHandle } from './pool/worker-handle.js';

/** A message from a worker, as seen by `workerMessage` listeners. */
export type WorkerMessageEvent<ToPrimary> = {
  [K in MessageType<ToPrimary>]: {
    readonly worker: WorkerHandle;
    readonly type: K;
    readonly payload: PayloadOf<ToPrimary, K>;
    /** True for `send` (a reply is expected), false for `notify`. */
    readonly isRequest: boolean;
    /** True when a `_onMessage_<type>` method handles it. */
    readonly hasHandler: boolean;
    /**
     * Answer a request that has no handler method. Call it synchronously inside the listener,
     * with the reply or a promise of it. Without a method or a `respondWith`, the sender gets
     * `NoHandlerError`.
     */
    respondWith(reply: ReplyOf<ToPrimary, K> | Promise<ReplyOf<ToPrimary, K>>): void;
  };
}[MessageType<ToPrimary>];

export interface WorkerExitEvent {
  readonly worker: WorkerHandle;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the primary asked it to stop (stop, shutdown, reload, replacement). */
  readonly expected: boolean;
}

export interface WorkerCrashEvent {
  readonly worker: WorkerHandle;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly uptimeMs: number;
}

export interface WorkerRestartEvent {
  readonly previous: WorkerHandle;
  readonly worker: WorkerHandle;
  readonly delayMs: number;
  /** Restarts of this slot since its backoff was last reset (1 for the first). */
  readonly attempt: number;
}

export interface CrashLoopEvent {
  readonly slot: number;
  readonly name: string | undefined;
  readonly failures: number;
  readonly reason: 'startup-failures' | 'too-many-restarts';
  readonly error: CrashLoopError;
  /** Slots still supervised after this one gave up: 0 means no worker is left to serve. */
  readonly remainingSlots: number;
}

export interface ShutdownReport {
  /** Workers that stopped by themselves within the timeout. */
  readonly graceful: readonly WorkerHandle[];
  /** Workers killed with SIGKILL at the timeout. */
  readonly killed: readonly WorkerHandle[];
}

export interface PrimaryEvents<ToPrimary> {
  initialize: (event: Record<string, never>) => void;
  initializeComplete: (event: Record<string, never>) => void;
  initializeError: (event: { readonly error: Error }) => void;
  destroy: (event: Record<string, never>) => void;
  destroyComplete: (event: { readonly error?: Error }) => void;

  workerFork: (event: { readonly worker: WorkerHandle }) => void;
  workerOnline: (event: { readonly worker: WorkerHandle }) => void;
  workerListening: (event: { readonly worker: WorkerHandle; readonly address: Address }) => void;
  workerReady: (event: { readonly worker: WorkerHandle }) => void;
  workerMessage: (event: WorkerMessageEvent<ToPrimary>) => void;
  workerDisconnect: (event: { readonly worker: WorkerHandle }) => void;
  /** A worker-side failure: its `_init` threw (a `RemoteError`), its process emitted 'error'... */
  workerError: (event: { readonly worker: WorkerHandle; readonly error: Error | RemoteError }) => void;
  workerExit: (event: WorkerExitEvent) => void;
  workerCrash: (event: WorkerCrashEvent) => void;
  workerRestart: (event: WorkerRestartEvent) => void;
  workerUnresponsive: (event: { readonly worker: WorkerHandle; readonly silentMs: number }) => void;
  workerMemoryLimit: (event: { readonly worker: WorkerHandle; readonly rssBytes: number; readonly limitBytes: number }) => void;
  /**
   * The worker sent messages that break clusterkit's protocol; they were dropped (counted in
   * `protocolErrors` of `stats()`). At most one event per worker per 10 s: `dropped` counts the
   * messages dropped since the previous one, `error` describes the latest.
   */
  workerProtocolError: (event: { readonly worker: WorkerHandle; readonly error: ProtocolError; readonly dropped: number }) => void;
  crashLoop: (event: CrashLoopEvent) => void;

  shutdown: (event: { readonly signal?: NodeJS.Signals; readonly timeoutMs: number }) => void;
  shutdownComplete: (event: ShutdownReport) => void;
  reload: (event: { readonly workers: number }) => void;
  reloadComplete: (event: { readonly replaced: number }) => void;
  reloadFailed: (event: { readonly error: Error }) => void;
  /** `scale()` began: `from` workers (active slots) to `to`. */
  scale: (event: { readonly from: number; readonly to: number }) => void;
  /** A shared-store key changed (from the primary or a worker). */
  storeChange: (event: StoreChange) => void;

  /** Failures that belong to no call: a throwing listener, a failed write... Unheard, it is thrown. */
  error: (error: Error) => void;
}

/** The event names, with the payload each carries. */
export type PrimaryEventPayload<ToPrimary, E extends keyof PrimaryEvents<ToPrimary>> = Parameters<PrimaryEvents<ToPrimary>[E]>[0];
