/**
 * clusterkit: resilient multi-process Node.js clusters with a clean object model.
 * Named exports only; internals are not part of the package's `exports`.
 */
export { ClusterPrimary, type PrimaryHandlers, type SendArgs } from './primary/cluster-primary.js';
export type { PrimaryState } from './primary/lifecycle/primary-lifecycle.js';
export { WorkerHandle } from './primary/pool/worker-handle.js';
export type { WorkerState, WorkerHealth } from './primary/pool/worker-record.js';
export type {
  PrimaryOptions,
  NormalizedPrimaryOptions,
  WorkerStdio,
  RestartOptions,
  BackoffOptions,
  HeartbeatOptions,
  ForkOptions,
} from './primary/primary-options.js';
export type { WorkerStats } from './primary/features/worker-stats.js';
export type { FailingSlotStats, GivenUpSlotStats } from './primary/features/given-up-stats.js';
export { SharedStore, type StoreChange } from './primary/features/shared-store.js';
export type { StoreStats } from './primary/features/store-stats.js';
export type { StickyOptions, StickyListener } from './primary/features/listen-sticky.js';
export type { HealthOptions, HealthListener } from './primary/features/listen-health.js';
export type { MetricsRegistry } from './prom-client.js';
export type {
  PrimaryEvents,
  WorkerMessageEvent,
  WorkerExitEvent,
  WorkerCrashEvent,
  UnreplacedExit,
  UncaughtError,
  WorkerRestartEvent,
  CrashLoopEvent,
  MemoryLimitAction,
  MemoryLimitEvent,
  SlotChangeEvent,
  SlotChangeReason,
  ShutdownReport,
  ReloadReport,
  ReloadRequester,
  ShutdownRequester,
  ShutdownForcedEvent,
  StickyRefusedEvent,
  StickyRefusedReason,
  WorkerRequestsCutEvent,
  RequestsCutReason,
} from './primary/primary-events.js';
export type { StopOutcome } from './primary/pool/stop-worker.js';

export { ClusterWorker, type WorkerHandlers, type WorkerLifecycleState } from './worker/cluster-worker.js';
export type { WorkerOptions } from './worker/worker-options.js';
export type { WorkerEvents, PrimaryMessageEvent, MessageContext, MessageSender, RelaySender, StopReason } from './worker/worker-events.js';
export { StoreClient, type StoreWriteOptions, type WatchedChange } from './worker/store-client.js';

export * from './errors.js';
export type { ClusterKitErrorCode } from './error-code.js';
export type * from './types.js';
export { createLineLogger, createJsonLogger, silentLogger, type Logger, type LineLoggerOptions, type LogLevel, type LogStream } from './logger.js';
export { startClusteredService, type ClusteredService, type ClusteredServiceOptions, type PrimaryService, type WorkerService, type WorkerModuleNamespace, type PrimaryStartupInfo, type PrimaryShutdownInfo, type WorkerSpawnedInfo, type WorkerCrashedInfo, type WorkerExitInfo, type WorkerStartupInfo, type WorkerShutdownInfo, type ServiceHealthOptions } from './runner/start-clustered-service.js';
export { defineConfig, type ClusterKitConfig, type AppConfig, type ConfigDuration, type ConfigSize } from './cli/config/define-config.js';
