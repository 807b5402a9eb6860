/**
 * Events of `ClusterWorker`. Every listener gets one payload object.
 */
import type { RelaySender } from '../messaging/system-types.js';
import type { MessageType, PayloadOf, ReplyOf } from '../types.js';

export type { RelaySender };

/** Who sent a message to this worker: the primary, or another worker through `sendTo()`. */
export type MessageSender = 'primary' | RelaySender;

/** The second argument of a worker's `_onMessage_<type>` methods. */
export interface MessageContext {
  readonly type: string;
  /** True for `send` (the return value is the reply), false for `notify`. */
  readonly isRequest: boolean;
  readonly from: MessageSender;
}

/** A message from the primary, as seen by `primaryMessage` listeners. */
export type PrimaryMessageEvent<ToWorker> = {
  [K in MessageType<ToWorker>]: {
    readonly type: K;
    readonly payload: PayloadOf<ToWorker, K>;
    readonly isRequest: boolean;
    readonly hasHandler: boolean;
    readonly from: MessageSender;
    /** Answer a request that has no handler method; call it synchronously in the listener. */
    respondWith(reply: ReplyOf<ToWorker, K> | Promise<ReplyOf<ToWorker, K>>): void;
  };
}[MessageType<ToWorker>];

/** Why the worker is stopping. */
export type StopReason = 'primary' | 'primary-disconnected' | 'signal';

export interface WorkerEvents<ToWorker> {
  initialize: (event: Record<string, never>) => void;
  initializeComplete: (event: Record<string, never>) => void;
  initializeError: (event: { readonly error: Error }) => void;
  destroy: (event: Record<string, never>) => void;
  destroyComplete: (event: { readonly error?: Error }) => void;
  primaryMessage: (event: PrimaryMessageEvent<ToWorker>) => void;
  /** The IPC channel to the primary closed without a shutdown request: the primary is gone. */
  primaryDisconnect: (event: Record<string, never>) => void;
  /** The worker began to stop: close long-lived connections (websockets, streams) now. */
  shutdown: (event: { readonly reason: StopReason; readonly deadlineMs: number }) => void;
  /** Failures that belong to no call. Unheard, it is thrown. */
  error: (error: Error) => void;
}
