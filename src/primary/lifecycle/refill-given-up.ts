/**
 * A reload's start again of the slots the crash-loop breaker gave up on (H259), and the wait
 * that tells whether the new code stays up in them (H517). Before H517 the reload ended (and
 * `clusterkit reload` exited 0) once they were forked: with every slot given up, the reload
 * replaced nothing and proved nothing, yet said it succeeded while the refilled workers
 * crash-looped again and nothing served (ops tester t54).
 */
import { CrashLoopError, ReloadError, WorkerExitedError } from '../../errors.js';
import { formatElapsed, formatUptime } from '../../duration.js';
import { toError } from '../../to-error.js';
import { settleWithin } from '../../wait.js';
import { describeUncaughtError } from '../pool/crash-notice.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { ReloadContext } from './rolling-reload.js';

/** What came of the slots a reload started again. */
export interface RefillOutcome {
  /** The numbers of the slots started again. */
  readonly slots: readonly number[];
  /** Why each one that did not stay up failed (it gave up again before ready, or its worker exited within the startup window), by slot number. */
  readonly failures: readonly { readonly slot: number; readonly error: Error }[];
}

/**
 * Starts again the given-up slots there is room for (`maxWorkers`), each with a fresh
 * crash-loop budget, and waits until each one's first worker was ready `windowMs` (the restart
 * policy's startup window), or failed: gave up again before ready, or exited on its own within
 * the window. Ends early as the primary begins shutting down (the caller checks). Undefined when
 * there was none to start. A failed one is restarted by the restart policy as after any crash,
 * and given up again after its failed starts in a row (`crashLoop`).
 */
export async function refillGivenUp(context: ReloadContext, windowMs: number): Promise<RefillOutcome | undefined> {
  const { pool, emit, options } = context;
  const givenUp = pool.takeGivenUp();
  if (givenUp.length === 0 || !context.isRunning()) return undefined;
  const room = Math.max(0, options.maxWorkers - pool.activeSlots().length);
  const refilled = givenUp.slice(0, room);
  if (refilled.length === 0) return undefined;
  const slots = refilled.map((slot) => slot.index);
  emit('crashLoopRefill', { slots });
  const results = await Promise.all(
    refilled.map(async (slot) => {
      try {
        const [handle] = await pool.addSlots(1, slot.spec, false, slot);
        const record = handle === undefined ? undefined : pool.record(handle.id);
        const error = record === undefined ? undefined : await stayedUp(context, record, windowMs);
        return error === undefined ? undefined : { slot: slot.index, error };
      } catch (error) {
        return { slot: slot.index, error: toError(error) };
      }
    }),
  );
  return { slots, failures: results.filter((result) => result !== undefined) };
}

/**
 * The reload's error when it replaced no worker and none of the slots it started again stayed
 * up (H517): nothing serves, and a deploy script must not read success. `isNothingServing` tells
 * it apart (the watch says so instead of "the old workers keep serving").
 */
export function nothingServesError(outcome: RefillOutcome, windowMs: number): ReloadError {
  const count = outcome.slots.length;
  const them = count === 1 ? `worker slot ${outcome.slots[0]}` : `the ${count} worker slots (${outcome.slots.join(', ')})`;
  const first = outcome.failures[0];
  // With several, each slot's own (one failure is a crash loop's give-up, another a crash: named by slot, not "the first").
  // Not "Worker slot 0: Worker slot 0 could not start ..." (retest t55): a crash loop's own message names its slot.
  const named = count === 1 || first === undefined || first.error.message.startsWith(`Worker slot ${first.slot} `) ? '' : `Worker slot ${first.slot}: `;
  const why = first === undefined ? '' : ` ${named}${first.error.message}`;
  // Each gave up again already (its crash loop's error), or is still being restarted (a crash in its window).
  const allGaveUp = outcome.failures.length > 0 && outcome.failures.every(({ error }) => error instanceof CrashLoopError);
  const next = allGaveUp
    ? `${count === 1 ? 'It was' : 'They were'} given up again; fix the code, then reload again.`
    : `The restart policy restarts ${count === 1 ? 'it' : 'them'} as after any crash, until ${count === 1 ? 'it gives' : 'they give'} up again; fix the code, then reload again.`;
  return new ReloadError(
    `The reload had no worker to replace: every slot had been given up in a crash loop. It started ${them} again with the new code, and none stayed up the ${formatElapsed(windowMs)} startup window, so no worker serves.${why} ${next}`,
    { ...(first === undefined ? {} : { cause: first.error }), isNothingServing: true },
  );
}

/** Undefined when `record` stayed up `windowMs` after its ready (or the primary began shutting down); its failure otherwise. */
async function stayedUp(context: ReloadContext, record: WorkerRecord, windowMs: number): Promise<Error | undefined> {
  const readyAt = record.readyAt ?? Date.now();
  await settleWithin(Promise.race([record.whenExited.promise, context.whenStopping]), Math.max(0, readyAt + windowMs - Date.now()));
  // A stop the primary asked for (a shutdown, a scale-down) is no failure of the code.
  if (record.state !== 'exited' || record.stopRequested) return undefined;
  const upMs = record.readyAt === undefined ? undefined : Math.max(0, Date.now() - record.readyAt);
  const after = upMs === undefined ? 'before it was ready' : `${formatUptime(upMs)} after it was ready`;
  const of = record.uncaughtError === undefined ? '' : `, of ${describeUncaughtError(record.uncaughtError)}`;
  const outside = record.outsideSignal();
  return new WorkerExitedError(record.exitDescription(), `${after}${of}, started again in worker slot ${record.slot.index} by the reload`, {
    advice: 'Its output says why.',
    ...(outside === undefined ? {} : { how: outside.how, outsideSignal: outside.signal }),
  });
}
