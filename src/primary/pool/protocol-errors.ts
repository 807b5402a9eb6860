/**
 * What the primary does with a worker's protocol error (a message the system router or the
 * endpoint dropped because it breaks the protocol): counts it on the worker (`protocolErrors`
 * in `stats()`, summed by `clusterkit status`) and emits `workerProtocolError`, at most once
 * per worker per 10 s, with how many were dropped since the last one (rate-limited-warning.ts),
 * so a worker flooding garbage cannot flood the logs. Nothing is thrown: the sender is not a
 * caller to tell.
 */
import { ProtocolError, type ProtocolProblem } from '../../errors.js';
import type { PrimaryEmit } from '../primary-context.js';
import { countLatest, RateLimitedWarning, type Counted } from './rate-limited-warning.js';
import type { WorkerRecord } from './worker-record.js';

export type ProtocolErrorReporter = (record: WorkerRecord, type: string | undefined, problem: ProtocolProblem) => void;

export function protocolErrorReporter(emit: PrimaryEmit): ProtocolErrorReporter {
  return (record, type, problem) => {
    record.protocolErrors++;
    // The error is built only when told: a flood must cost a counter increment per message, no more.
    record.protocolWarning ??= new RateLimitedWarning<Counted<{ type: string | undefined; problem: ProtocolProblem }>>(countLatest, ({ count, latest }) =>
      emit('workerProtocolError', { worker: record.handle, error: new ProtocolError(record.describe(), latest.problem, latest.type), dropped: count }),
    );
    record.protocolWarning.note({ count: 1, latest: { type, problem } });
  };
}
