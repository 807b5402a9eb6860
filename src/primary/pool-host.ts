/**
 * What the worker pool needs from the primary that owns it.
 */
import type { AnyMessageMap } from '../types.js';
import type { PrimaryEvents } from './primary-events.js';
import type { NormalizedPrimaryOptions } from './primary-options.js';
import type { WorkerRecord } from './pool/worker-record.js';

type Events = PrimaryEvents<AnyMessageMap>;

export interface PoolHost {
  readonly options: NormalizedPrimaryOptions;
  /** Emits a primary event; a throwing listener is reported, never thrown into the pool. */
  emit<E extends keyof Events>(event: E, payload: Parameters<Events[E]>[0]): void;
  /** Routes an inbound request or notification from a worker (system or user). */
  onInbound(record: WorkerRecord, type: string, payload: unknown, isRequest: boolean): unknown;
  /** Reports a failure that belongs to no caller. */
  reportError(error: Error): void;
}
