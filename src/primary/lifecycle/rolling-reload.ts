/**
 * Zero-downtime replacement of workers: fork the replacement, wait until it is ready (and
 * listening, if the old one was) and, with `minReadyMs`, until it stayed up that long, then stop
 * the old one gracefully. Never the other way round: killing first drops connections (in
 * round-robin mode the primary even closes the listening socket when its last worker leaves).
 */
import { describeExit, ReloadError } from '../../errors.js';
import { formatElapsed } from '../../duration.js';
import { describeUncaughtError } from '../pool/crash-notice.js';
import { settleWithin } from '../../wait.js';
import { toError } from '../../to-error.js';
import type { WorkerHandle } from '../pool/worker-handle.js';
import type { PrimaryContext } from '../primary-context.js';
import type { Slot } from '../pool/slot.js';
import { stopAll, stopWorker } from '../pool/stop-worker.js';
import { kMaxLoweredMs, lowerWhileBooting } from '../pool/startup-priority.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { ReloadRequester, ShutdownReport } from '../primary-events.js';
import { withNotStarted } from './not-started.js';
import { isSilent, silenceOf } from '../pool/silence.js';

/** How long a failed replacement may take to go away. */
const kFailedReplacementStopMs = 2_000;

/** The failures of replacements that were ready, then exited or went silent within `minReadyMs`. */
const notStayedUp = new WeakSet<Error>();

/** Whether `error` is the failure of a replacement that became ready but did not stay up `minReadyMs` (H360). */
export function isNotStayedUp(error: unknown): boolean {
  return error instanceof Error && notStayedUp.has(error);
}

/** What a reload takes from the primary's context, and whether the primary still runs. */
export type ReloadContext = Pick<PrimaryContext, 'pool' | 'options' | 'emit'> & {
  readonly isRunning: () => boolean;
  /** Resolves as the primary begins shutting down: a replacement's `minReadyMs` is not waited out then (H349). */
  readonly whenStopping: Promise<void>;
};

/**
 * Replaces every worker, one slot at a time. Rejects with `ReloadError` at the first failure.
 * `env`: the workers' new `env` option (H336), for every fork while the reload runs (the
 * replacements, and restarts and scale-ups too); in force from then on only when the reload
 * completes (H340): a reload that fails puts the env from before back for every later fork (a
 * new env that makes the app throw, or that the kernel refuses, E2BIG, would otherwise crash-loop
 * every later restart and plain reload), and its error says how many live workers started with
 * the new one (they keep it until they are replaced).
 */
export async function rollingReload(context: ReloadContext, requestedBy: ReloadRequester = 'call', env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  const slots = [...context.pool.slots].filter((slot) => !slot.isRetired);
  const before = context.pool.env;
  const changed = env === undefined ? undefined : envChanges(before, env);
  if (env !== undefined) context.pool.env = env;
  context.emit('reload', { workers: slots.length, requestedBy, ...(changed === undefined ? {} : { env: changed }) });
  let replaced = 0;
  // Slots a scale-down removed before or during their turn: said, not left out of the count (H191).
  let retired = 0;
  const stopped = { graceful: [] as WorkerHandle[], failed: [] as WorkerHandle[], killed: [] as WorkerHandle[], requestsCut: 0 };
  const notStarted: WorkerHandle[] = [];
  try {
    for (const slot of slots) {
      if (!context.isRunning()) {
        throw new ReloadError(`The reload stopped because the primary is shutting down; ${replaced} of ${slots.length} workers were replaced.`, { isShutdown: true });
      }
      const report = slot.isRetired ? undefined : await replaceInSlot(context, slot, `${replaced} of ${slots.length} workers were replaced`, true);
      // Scaled away (or stopped) before its turn or while its replacement started: nothing left to replace there.
      if (report === undefined) {
        retired++;
        continue;
      }
      for (const outcome of ['graceful', 'failed', 'killed'] as const) stopped[outcome].push(...report[outcome]);
      notStarted.push(...(report.notStarted ?? []));
      stopped.requestsCut += report.requestsCut;
      replaced++;
    }
    // The shutdown took over the stop of the last old worker (it reports it): not a complete reload.
    if (!context.isRunning()) {
      throw new ReloadError(`The reload stopped because the primary is shutting down; ${replaced} of ${slots.length} workers were replaced, and the shutdown stopped the old ones still draining.`, {
        isShutdown: true,
      });
    }
  } catch (error) {
    let failure = error instanceof ReloadError ? error : new ReloadError(toError(error).message, { cause: error, isShutdown: !context.isRunning() });
    if (env !== undefined && context.pool.env === env) {
      // The env from before is in force again (H340): this one was never applied in full.
      context.pool.env = before;
      if (changed !== undefined && changed.changed.length > 0) {
        const started = [...context.pool.records].filter((record) => record.env === env && record.state !== 'exited').length;
        const already = started === 0 ? 'no worker started with the new one' : `${started} ${started === 1 ? 'worker' : 'workers'} already started with the new one, and ${started === 1 ? 'keeps it until it is' : 'keep it until they are'} replaced`;
        failure = new ReloadError(`${failure.message} The env in force is still the one from before (every later fork gets it); ${already}.`, { cause: failure.cause, isShutdown: failure.isShutdown });
      }
    }
    context.emit('reloadFailed', { error: failure });
    throw failure;
  }
  context.emit('reloadComplete', { replaced, retired, stopped: notStarted.length === 0 ? stopped : { ...stopped, notStarted } });
}

/**
 * The variables whose value differs between two `env` options, sorted: `changed` all of them (as
 * before), `added` and `removed` those the new one sets or removes (LOW, retest t35: an added or
 * removed variable was said "changed").
 */
export function envChanges(before: Readonly<Record<string, string | undefined>>, after: Readonly<Record<string, string | undefined>>): { changed: string[]; added: string[]; removed: string[] } {
  const changed = changedNames(before, after);
  const isSet = (env: Readonly<Record<string, string | undefined>>, name: string) => Object.hasOwn(env, name) && env[name] !== undefined;
  return { changed, added: changed.filter((name) => !isSet(before, name) && isSet(after, name)), removed: changed.filter((name) => isSet(before, name) && !isSet(after, name)) };
}

/** The variables whose value differs between two `env` options (one set, changed, or removed), sorted. */
export function changedNames(before: Readonly<Record<string, string | undefined>>, after: Readonly<Record<string, string | undefined>>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name] || Object.hasOwn(before, name) !== Object.hasOwn(after, name)).sort();
}

/** Replaces one worker the same way (used when it exceeds `maxMemoryMb`). */
export async function replaceWorker(context: ReloadContext, record: WorkerRecord): Promise<void> {
  if (record.slot.current !== record || record.slot.isRetired) return;
  await replaceInSlot(context, record.slot, 'the old worker keeps running');
}

/**
 * Replaces the worker of `slot`; resolves with how the worker(s) it replaced stopped, or with
 * undefined when the slot was retired (a scale-down, a stop) while the replacement started.
 * `restartsWait` (a reload, H345): a crash restart of the slot that comes due while the
 * replacement starts waits for it, and runs only if it fails: the slot never runs the restart's
 * worker and the replacement together. A memory replacement leaves its restart in place (H163).
 */
async function replaceInSlot(context: ReloadContext, slot: Slot, progress: string, restartsWait = false): Promise<ShutdownReport | undefined> {
  const { pool, options } = context;
  const old = slot.current;
  // A slot of a scale-up under way gets its first worker from the new code anyway.
  if (old === undefined) return { graceful: [], failed: [], killed: [], requestsCut: 0 };
  const incoming = pool.launch(slot, true);
  if (restartsWait) slot.beginReplacing(incoming);
  const endReplacing = (): void => {
    if (restartsWait) slot.endReplacing();
  };
  // It boots on CPU the serving workers leave, and gets their priority back once ready.
  const restorePriority = lowerWhileBooting(incoming.pid, Math.min(kMaxLoweredMs, options.readyTimeoutMs / 4));
  // Set while it serves beside the old worker for `minReadyMs` (H349).
  let isProving = false;
  try {
    // Rejects at its exit before ready, with how it exited (worker-pool.ts).
    await incoming.whenReady.promise;
    restorePriority?.();
    if (old?.isListening && !incoming.isListening) {
      // Its exit ends the wait at once: a new version that crashes at startup is the most common bad deploy.
      await settleWithin(Promise.race([incoming.whenListening.promise, incoming.whenExited.promise]), options.readyTimeoutMs);
      if (incoming.state === 'exited' && incoming.stopRequested) throw new Error(`${incoming.describe()} was stopped by the primary before it listened`);
      if (incoming.state === 'exited') {
        throw new Error(`${incoming.describe()} ${describeExit(incoming.exitCode, incoming.signal, incoming.pid)} after it was ready, before it listened`);
      }
      if (!incoming.isListening) throw new Error(`it was ready but did not listen within ${options.readyTimeoutMs} ms, unlike the worker it replaces`);
    }
    // A replacement that exits right after ready with nothing to listen for is no replacement either.
    if (incoming.state === 'exited') throw new Error(`${incoming.describe()} ${describeExit(incoming.exitCode, incoming.signal, incoming.pid)} right after it was ready`);
    // A build that crashes soon after ready (a lazy import, its first request, a timer) would
    // otherwise replace every good worker in turn (H349): it must stay up `minReadyMs` first,
    // serving beside the old worker, which stops only then. Its restart waits as during its start.
    if (options.minReadyMs > 0 && context.isRunning() && !slot.isRetired) {
      isProving = true;
      await staysUp(context, incoming, old, options.minReadyMs);
    }
  } catch (error) {
    restorePriority?.();
    try {
      await stopWorker(pool, incoming, kFailedReplacementStopMs);
    } finally {
      // Gone: a restart that came due meanwhile runs now.
      endReplacing();
    }
    // A scale-down stops the replacements of the slots it removes: no failure of the new code.
    if (slot.isRetired && context.isRunning()) return undefined;
    const reason = toError(error).message;
    // A shutdown that began meanwhile stopped the replacement: that, not the replacement, ended the reload.
    if (!context.isRunning()) {
      // The shutdown stopped the replacement: its exit says nothing about the new code.
      const what = incoming.stopRequested ? 'it was stopped with the other workers' : reason;
      const doing = isProving ? `staying up its ${options.minReadyMs} ms ("minReadyMs")` : 'starting';
      throw new ReloadError(`The reload stopped because the primary began shutting down while the replacement for worker slot ${slot.index} was ${doing} (${what}); ${progress}.`, {
        cause: error,
        isShutdown: true,
      });
    }
    // Ready, and serving, before it exited or went silent within minReadyMs: no failed start (retest t36 N3, H360).
    const failed = isProving ? 'became ready but did not stay up' : 'failed to start';
    const failure = new ReloadError(`The replacement for worker slot ${slot.index} ${failed} (${reason}), so the reload stopped; ${progress}.`, { cause: error });
    if (isProving) notStayedUp.add(failure);
    throw failure;
  }
  // The shutdown began while it stayed up (H349): a ready worker that serves, which the shutdown
  // stops gracefully with the others (not in the 2 s of a failed start), as the old one.
  if (isProving && !context.isRunning()) {
    endReplacing();
    throw new ReloadError(
      `The reload stopped because the primary began shutting down while the replacement for worker slot ${slot.index} was staying up its ${options.minReadyMs} ms ("minReadyMs") before ${old.describe()} would stop; the shutdown stops both; ${progress}.`,
      { isShutdown: true },
    );
  }
  // Retired while the replacement started (H177): taking it over would bring back a slot a
  // scale-down removed, for good. The replacement goes; whoever retired the slot stops the old one.
  if (slot.isRetired) {
    endReplacing();
    await stopWorker(pool, incoming, options.shutdownTimeoutMs);
    return undefined;
  }
  // The slot may have crashed and restarted meanwhile: the newest worker wins, the rest stop.
  const displaced = slot.current;
  slot.current = incoming;
  slot.cancelRestart();
  endReplacing();
  slot.restarts++;
  // A worker that exited on its own before (a crash, its restart pending) was not stopped by the
  // reload: its crash was said as one, and is no failed stop of the reload (H345).
  const retiring = new Set([old, displaced].filter((record): record is WorkerRecord => record !== undefined && record !== incoming && record.state !== 'exited'));
  // An old worker not ready yet (a restart still booting) never served: not started, not a graceful stop (H211).
  const unready = [...retiring].flatMap((record) => (record.readyAt === undefined ? [record.handle] : []));
  // The replacement (a cold process) takes over the retiring worker's clients a few at a time.
  return withNotStarted(await stopAll(pool, [...retiring], options.shutdownTimeoutMs, options.gradualDrainMs), unready);
}

/**
 * Waits `minReadyMs` while `incoming`, ready, serves beside `old` (H349). Throws when it exits
 * meanwhile, saying how and how soon after ready; returns at once when the primary begins
 * shutting down (a shutdown never waits it out: the caller sees `isRunning()` false).
 */
async function staysUp(context: ReloadContext, incoming: WorkerRecord, old: WorkerRecord, minReadyMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, minReadyMs);
  });
  try {
    await Promise.race([elapsed, incoming.whenExited.promise, context.whenStopping]);
  } finally {
    clearTimeout(timer);
  }
  // The old worker was never stopped: it serves on (unless it crashed meanwhile, its restart then due).
  const within = `within the ${minReadyMs} ms it had to stay up ("minReadyMs") before ${old.describe()} would stop${old.state === 'exited' ? '' : '; that one keeps serving'}`;
  if (incoming.state === 'exited' && incoming.stopRequested) throw new Error(`${incoming.describe()} was stopped by the primary ${within}`);
  if (incoming.state === 'exited') {
    const upMs = incoming.readyAt === undefined ? undefined : Date.now() - incoming.readyAt;
    const after = upMs === undefined ? 'after it was ready' : `${formatElapsed(upMs)} after it was ready`;
    const of = incoming.uncaughtError === undefined ? '' : `, of ${describeUncaughtError(incoming.uncaughtError)}`;
    throw new Error(`${incoming.describe()} ${describeExit(incoming.exitCode, incoming.signal, incoming.pid)} ${after}${of}, ${within}`);
  }
  // A build that hangs soon after ready (retest t36 N1) is no replacement either: the heartbeat
  // found it silent during the wait and it has not answered since. Caught only when minReadyMs
  // is longer than the heartbeat's silence threshold (2 s by default); the docs say so.
  const now = Date.now();
  if (context.isRunning() && (incoming.silence !== undefined || isSilent(incoming, context.options.heartbeat, now))) {
    const unheardMs = silenceOf(incoming, context.options.heartbeat, now);
    const unheard = unheardMs === undefined ? '' : ` (unheard for ${formatElapsed(unheardMs)})`;
    throw new Error(`${incoming.describe()} stopped answering the heartbeat${unheard}, its event loop most likely blocked, ${within}`);
  }
}
