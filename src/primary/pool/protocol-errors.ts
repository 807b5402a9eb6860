/**
 * What the primary does with a worker's protocol error (a message the system router or the
 * endpoint dropped because it breaks the protocol): counts it on the worker (`protocolErrors`
 * in `stats()`, summed by `clusterkit status`) and emits `workerProtocolError`, at most once
 * per worker per `kProtocolWarningIntervalMs`, with how many were dropped since the last one,
 * so a worker flooding garbage cannot flood the logs. Nothing is thrown: the sender is not a
 * caller to tell.
 */
import { ProtocolError, type ProtocolProblem } from '../../errors.js';
import type { PrimaryEmit } from '../primary-context.js';
import type { WorkerRecord } from './worker-record.js';

/** Least time between two `workerProtocolError` events about one worker. */
export const kProtocolWarningIntervalMs = 10_000;

export type ProtocolErrorReporter = (record: WorkerRecord, type: string | undefined, problem: ProtocolProblem) => void;

/** When a rate-limited warning was last given, and the running count then. */
export interface WarningMark {
  readonly at: number;
  readonly count: number;
}

/**
 * Decides a rate-limited warning about a running count (`total`, already incremented): undefined
 * while the last warning (`previous`) is less than `kProtocolWarningIntervalMs` old, otherwise the
 * new mark to keep and how many occurrences the warning covers (those since the previous one).
 */
export function nextWarning(previous: WarningMark | undefined, total: number, now = Date.now()): { mark: WarningMark; since: number } | undefined {
  if (previous && now - previous.at < kProtocolWarningIntervalMs) return undefined;
  return { mark: { at: now, count: total }, since: total - (previous?.count ?? 0) };
}

export function protocolErrorReporter(emit: PrimaryEmit): ProtocolErrorReporter {
  return (record, type, problem) => {
    record.protocolErrors++;
    const warning = nextWarning(record.protocolWarning, record.protocolErrors);
    if (!warning) return;
    record.protocolWarning = warning.mark;
    // Built only when emitted: a flood must cost a counter increment per message, no more.
    emit('workerProtocolError', { worker: record.handle, error: new ProtocolError(record.describe(), problem, type), dropped: warning.since });
  };
}
