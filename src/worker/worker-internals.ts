/**
 * @internal The worker's machinery, for clusterkit's own feature modules (relay, store,
 * metrics, sticky sessions, service runner). Not part of the public API.
 */
import type { Endpoint } from '../messaging/endpoint.js';

/** Handles a system message from the primary; the return value is the reply. */
export type WorkerSystemHandler = (payload: unknown, isRequest: boolean) => unknown;

export interface WorkerInternals {
  /** The endpoint to the primary; undefined before start(). */
  endpoint(): Endpoint | undefined;
  registerSystemHandler(type: string, handler: WorkerSystemHandler): void;
  emit(event: string, payload: unknown): void;
  reportError(error: Error): void;
}

const registry = new WeakMap<object, WorkerInternals>();

export function registerWorkerInternals(worker: object, internals: WorkerInternals): void {
  registry.set(worker, internals);
}

export function workerInternals(worker: object): WorkerInternals {
  const internals = registry.get(worker);
  if (!internals) throw new TypeError('Not a ClusterWorker');
  return internals;
}
