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

/** `count`: how many were dropped (a metrics answer's series, H325); 1 message by default. */
export type ProtocolErrorReporter = (record: WorkerRecord, type: string | undefined, problem: ProtocolProblem, detail?: string, count?: number) => void;

/**
 * The protocol errors held between two warnings: how many, the latest (which the warning's
 * error describes), and how many of each problem, so a line about 8 dropped messages does not
 * read as 8 of the last one's kind (hostile t31 L1: 4 malformed frames and 4 malformed records
 * were told as "a malformed IPC frame ... dropped=8").
 */
export interface ProtocolTally extends Counted<{ type: string | undefined; problem: ProtocolProblem; detail?: string | undefined }> {
  problems?: Map<ProtocolProblem, number>;
}

function tally(held: ProtocolTally | undefined, next: ProtocolTally): ProtocolTally {
  const merged = countLatest(held, next) as ProtocolTally;
  merged.problems ??= new Map();
  merged.problems.set(next.latest.problem, (merged.problems.get(next.latest.problem) ?? 0) + next.count);
  return merged;
}

export function protocolErrorReporter(emit: PrimaryEmit): ProtocolErrorReporter {
  return (record, type, problem, detail, count = 1) => {
    record.protocolErrors += count;
    // The error is built only when told: a flood must cost a counter increment per message, no more.
    record.protocolWarning ??= new RateLimitedWarning<ProtocolTally>(tally, ({ count, latest, problems }) =>
      emit('workerProtocolError', {
        worker: record.handle,
        error: new ProtocolError(record.describe(), latest.problem, latest.type, latest.detail),
        dropped: count,
        problems: Object.fromEntries(problems ?? [[latest.problem, count]]),
      }),
    );
    record.protocolWarning.note({ count, latest: { type, problem, detail } });
  };
}
