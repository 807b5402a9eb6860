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

export function protocolErrorReporter(emit: PrimaryEmit): ProtocolErrorReporter {
  return (record, type, problem) => {
    record.protocolErrors++;
    const warning = record.protocolWarning;
    const now = Date.now();
    if (warning && now - warning.at < kProtocolWarningIntervalMs) return;
    const dropped = record.protocolErrors - (warning?.count ?? 0);
    record.protocolWarning = { at: now, count: record.protocolErrors };
    // Built only when emitted: a flood must cost a counter increment per message, no more.
    emit('workerProtocolError', { worker: record.handle, error: new ProtocolError(record.describe(), problem, type), dropped });
  };
}
