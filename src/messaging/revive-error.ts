/**
 * Errors that crossed IPC arrive as `RemoteError`. When the remote error is one of
 * clusterkit's own (a relayed request whose target died, a store operation with a bad
 * argument...), the caller should get that class, as if the failure had happened locally:
 * users branch on `WorkerExitedError`, not on a wrapper around it.
 */
import {
  BackpressureError,
  InvalidArgumentError,
  MessageTooLargeError,
  MessageTimeoutError,
  NoHandlerError,
  NotSerializableError,
  NoWorkerAvailableError,
  RemoteError,
  StoreFullError,
  StoreWatchLimitError,
  WorkerExitedError,
  ShutdownInProgressError,
} from '../errors.js';
import { peerNearMiss } from './route.js';

type Data = Record<string, unknown>;

/** The clusterkit error `error` stands for, or `error` itself. The original is kept as `cause`. */
export function reviveClusterKitError(error: unknown): unknown {
  if (!(error instanceof RemoteError)) return error;
  const data: Data = error.data ?? {};
  const options = { cause: error };
  switch (error.remoteCode) {
    case 'ERR_REMOTE': {
      const remote = {
        name: String(data.remoteName),
        message: String(data.remoteMessage),
        code: data.remoteCode as string | undefined,
        stack: data.remoteStack as string | undefined,
        data: data.data as Data | undefined,
      };
      // The remote error's cause chain came revived, as the relayed RemoteError's own (H352).
      return new RemoteError(String(data.messageType), String(data.peer), remote, undefined, { cause: error.cause });
    }
    case 'ERR_WORKER_EXITED':
      return new WorkerExitedError(
        { workerId: Number(data.workerId), pid: data.pid as number | undefined, exitCode: data.exitCode as number | null, signal: data.signal as NodeJS.Signals | null },
        String(data.context ?? 'before it replied'),
        {
          ...options,
          // A request the worker never got (relayed, tester t51): still said, and safe to retry.
          ...(typeof data.queuedBehind === 'number' ? { queuedBehind: data.queuedBehind } : {}),
          // How it ended as the primary knew it (killed by the primary, and why: retest t68b), not rebuilt from the exit alone.
          ...(typeof data.how === 'string' && data.how.length <= 1_024 ? { how: data.how } : {}),
        },
      );
    case 'ERR_SHUTDOWN_IN_PROGRESS':
      // A relayed request its target refused as it shuts down (tester t51): not handled.
      return new ShutdownInProgressError(error.remoteMessage, options);
    case 'ERR_MESSAGE_TIMEOUT':
      return new MessageTimeoutError(
        String(data.messageType),
        Number(data.timeoutMs),
        String(data.peer),
        typeof data.queuedBehind === 'number' ? data.queuedBehind : undefined,
        // A relay held at the primary before it went out (retest t68 #4): said, not lost on the way.
        typeof data.queuedMs === 'number' && Number.isFinite(data.queuedMs) && data.queuedMs >= 0 ? data.queuedMs : undefined,
      );
    case 'ERR_NO_HANDLER':
      return new NoHandlerError(String(data.messageType), String(data.peer), peerNearMiss(data, String(data.messageType)));
    case 'ERR_BACKPRESSURE':
      return new BackpressureError(
        String(data.peer),
        Number(data.limit),
        typeof data.queuedBytes === 'number' ? data.queuedBytes : undefined,
        data.option === 'maxPending' ? 'maxPending' : 'maxPendingPerWorker',
        typeof data.held === 'string' ? data.held : undefined,
      );
    case 'ERR_NO_WORKER_AVAILABLE':
      return new NoWorkerAvailableError(error.remoteMessage, options);
    case 'ERR_INVALID_ARGUMENT':
      return new InvalidArgumentError(error.remoteMessage, options);
    case 'ERR_NOT_SERIALIZABLE':
      return new NotSerializableError(String(data.path), String(data.reason), typeof data.storeKey === 'string' ? { ...options, storeKey: data.storeKey } : options);
    case 'ERR_MESSAGE_TOO_LARGE':
      return new MessageTooLargeError(String(data.messageType), Number(data.estimatedBytes), Number(data.limitBytes), {
        isReply: data.isReply === true,
        isPrimaryLimit: data.isPrimaryLimit === true,
        isWorkerLimit: data.isWorkerLimit === true,
        ...(Number.isSafeInteger(data.primaryLimitBytes) && (data.primaryLimitBytes as number) > 0 ? { primaryLimitBytes: data.primaryLimitBytes as number } : {}),
        ...(typeof data.why === 'string' ? { why: data.why } : {}),
        cause: error,
      });
    case 'ERR_STORE_FULL':
      return new StoreFullError(
        String(data.key),
        data.option === 'maxStoreKeys' ? 'maxStoreKeys' : 'maxStoreBytes',
        Number(data.limit),
        Number(data.usedBytes),
        Number(data.keyCount),
        Number(data.writeBytes),
        options,
      );
    case 'ERR_STORE_WATCH_LIMIT':
      return new StoreWatchLimitError(
        String(data.key),
        data.option === 'maxStoreWatchesPerWorker' ? 'maxStoreWatchesPerWorker' : 'maxStoreBytes',
        Number(data.limit),
        Number(data.watchedKeys),
        Number(data.watchedBytes),
        options,
      );
    default:
      return error;
  }
}
