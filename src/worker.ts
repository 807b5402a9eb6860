/**
 * `clusterkit/worker`: the worker side of clusterkit alone, for a worker file (`workerScript`).
 * Every worker compiles what it imports before it can be ready; this entry is less than half of
 * the package (no ClusterPrimary, pool, control socket, store server or dashboard), and shares
 * its modules with the main entry, so a process importing both has one of each class.
 */
export { ClusterWorker, type WorkerHandlers, type WorkerLifecycleState } from './worker/cluster-worker.js';
export type { WorkerOptions } from './worker/worker-options.js';
export type { WorkerEvents, PrimaryMessageEvent, MessageContext, MessageSender, RelaySender, StopReason } from './worker/worker-events.js';
export { StoreClient, type StoreWriteOptions, type WatchedChange } from './worker/store-client.js';
export * from './errors.js';
export type * from './types.js';
export { createLineLogger, createJsonLogger, silentLogger, type Logger, type LineLoggerOptions, type LogLevel, type LogStream } from './logger.js';
