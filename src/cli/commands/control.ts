/**
 * `clusterkit reload|stop|scale <name>`: one request to the cluster's control socket.
 */
import { controlRequest, isDropped } from '../../control/control-client.js';
import { describeCancelledRestarts, describeInterrupted } from '../../control/stop-counts.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { ClusterStatus } from '../../control/control-protocol.js';
import { ClusterNotRunningError, ControlCommandUnsupportedError, ControlSocketError, RemoteError } from '../../errors.js';
import { recentStop, type StopRecord } from '../../control/stop-record.js';
import { formatElapsed } from '../../duration.js';
import { shellWord } from '../../shell-word.js';
import {
  causeOf,
  describeReload,
  describeScale,
  outcomeExitCode,
  plural,
  reloadExitCode,
  scaleOutcome,
  scaleWarning,
  stopOutcome,
  type ReloadReply,
  type ScaleReply,
} from '../control-outcome.js';
import { parseClusterName, parseCount } from '../arg-values.js';
import { describeKilledResets } from '../../primary/pool/killed-resets.js';
import type { CommandName } from '../help.js';
import { remoteMessage } from '../flag-names.js';
import { parseCommand } from '../parse-command.js';
import { missingNameError } from '../missing-name.js';
import { withReloadProgress } from '../reload-progress.js';
import { UsageError } from '../usage-error.js';
import { RequestWatch } from '../request-watch.js';

/** How long `stop` waits for the primary process to be gone after it answered. */
const kExitWaitMs = 10_000;

export async function reloadCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('reload', args, { help: { type: 'boolean', short: 'h' }, 'update-env': { type: 'boolean' } });
  if (values.help) return 'help';
  const name = await checkedName('reload', positionals, 1);
  const updateEnv = values['update-env'] === true;
  // A primary that does not read the request is named, and Ctrl-C says what goes on (H443, H444).
  const watch = new RequestWatch(name[0], 'reload');
  try {
    return await reload(name, updateEnv, watch);
  } finally {
    watch.end();
  }
}

async function reload(name: [string, ...string[]], updateEnv: boolean, watch: RequestWatch): Promise<number> {
  // Progress on stderr while it runs, one line per slot (H398); stdout keeps the one result line.
  const result = (await onceStarted(name[0], 'reload', () =>
    withReloadProgress(name[0], () => watch.request((hooks) => controlRequest(name[0], 'reload', updateEnv ? { updateEnv, hooks } : { hooks })), (line) => process.stderr.write(`${line}\n`)).catch((error: unknown) => {
      // A primary of an older clusterkit refuses the field it does not know: nothing was reloaded (H336).
      if (updateEnv && error instanceof RemoteError && error.remoteCode === 'ERR_INVALID_ARGUMENT' && error.remoteMessage.includes('"updateEnv"')) {
        throw new ControlCommandUnsupportedError(
          name[0],
          'reload --update-env',
          // It may be a primary of the user's own code (serviceName), which clusterkit run does not start (H359).
          `Nothing was reloaded. Restart it to apply a changed env (clusterkit stop ${shellWord(name[0])}, then start it again: clusterkit run, or the code that runs its primary), or reload it without --update-env.`,
          { cause: error },
        );
      }
      throw error;
    }),
  )) as ReloadReply;
  process.stdout.write(`${describeReload(name[0], result, updateEnv ? process.env : undefined)}\n`);
  return reloadExitCode(result);
}

export async function stopCommand(args: string[]): Promise<number | 'help'> {
  const name = await singleName('stop', args, 1);
  if (name === 'help') return 'help';
  // A stop may drain for minutes: no time limit, but a primary that does not read it is named (H443).
  const watch = new RequestWatch(name[0], 'stop');
  let result: StopAnswer & { pid: number; keepsRunning?: unknown };
  try {
    result = (await watch.request((hooks) => controlRequest(name[0], 'stop', { hooks }))) as StopAnswer & { pid: number; keepsRunning?: unknown };
    // A primary of the user's own code run with handleSignals: false keeps its process (H665): not waited for.
    if (result.keepsRunning !== true) await waitForExit(result.pid);
  } catch (error) {
    // Another stop got there first, a moment ago (two typed at once): nothing to do, exit 0 (H453).
    const stopped = alreadyStopped(name[0], error);
    if (stopped === undefined) throw error;
    // Its process ends right after the record: waited for only then (a library primary may live on after its stop; its pid may be another's by now).
    if (Date.now() - stopped.at < kFreshStopMs) await waitForExit(stopped.pid);
    const forced = stopped.forced === undefined ? '' : ` (a ${stopped.forced} during its shutdown forced it: its workers were killed)`;
    process.stdout.write(`${name[0]} was already stopped, ${formatElapsed(Math.max(0, Date.now() - stopped.at))} ago${forced}: nothing to do\n`);
    return 0;
  } finally {
    watch.end();
  }
  const kept = result.keepsRunning === true ? `; its primary (pid ${result.pid}) keeps running: its code runs it with handleSignals: false, and ends the process itself` : '';
  process.stdout.write(`stopped ${name[0]}: ${describeStops(result)}${kept}\n`);
  // Workers stopped before they were ready cut nothing and did not fail a stop: the exit code leaves them out.
  const { notStarted: _notStarted, interrupted: _interrupted, failedCause: _failedCause, killedCause: _killedCause, restartsCancelled: _restartsCancelled, killedConnectionsReset: _killedReset, keepsRunning: _keepsRunning, ...counts } = result;
  return outcomeExitCode(stopOutcome(counts));
}

/**
 * The recorded clean stop of `name` a `stop` that failed with `error` came just after
 * (stop-record.ts): no socket (its primary closed it), or a connection its exiting primary
 * dropped. Not after a primary that ended without stopping (its socket left behind, `deadPrimary`).
 */
function alreadyStopped(name: string, error: unknown): StopRecord | undefined {
  // A close after the primary acknowledged the stop too: one it joined (a Ctrl-C's) ended its process before its answer.
  const isDroppedHere = error instanceof ControlSocketError && isDropped(error);
  const isGone = error instanceof ClusterNotRunningError ? error.deadPrimary === undefined : isDroppedHere;
  const record = isGone ? recentStop(name) : undefined;
  // A stop this one waited on that a signal then forced: not "already stopped" (exit 0), but what
  // the dropped answer's error says, naming the signal (exit 1, as the forced stop's own).
  return isDroppedHere && record?.forced !== undefined ? undefined : record;
}

/** `2 workers stopped gracefully, 1 did not stop cleanly (see the cluster's log), 1 killed (at the shutdown timeout, ...), 3 requests cut off`. */
/** The control socket's answer to `stop` (stop-counts.ts), as read: from another process, unchecked. */
interface StopAnswer {
  graceful: number;
  failed?: number;
  killed: number;
  requestsCut?: number;
  connectionsReset?: number;
  killedConnectionsReset?: unknown;
  restartsCancelled?: unknown;
  notStarted?: unknown;
  interrupted?: unknown;
  failedCause?: unknown;
  killedCause?: unknown;
}

function describeStops({ graceful, failed = 0, killed, requestsCut = 0, connectionsReset, killedConnectionsReset, restartsCancelled, notStarted, interrupted, failedCause, killedCause }: StopAnswer): string {
  // "0 workers stopped gracefully" is noise after an interrupted start's own part (newcomer t25);
  // without it, the next count names its noun itself.
  const hidesGraceful = graceful === 0 && notStarted !== undefined;
  const count = (n: number) => (hidesGraceful ? plural(n, 'worker') : String(n));
  const parts = hidesGraceful ? [] : [`${plural(graceful, 'worker')} stopped gracefully`];
  // A stop during the start (H130) or a scale-up (H145): the workers not ready yet are in none of
  // the other counts; one killed at the timeout is in `killed` alone (H210).
  if (Number.isSafeInteger(notStarted) && (notStarted as number) >= 0) {
    const unready = notStarted as number;
    const none = killed > 0 || failed > 0 || graceful > 0 ? '' : ', no worker had been forked yet';
    parts.unshift(`${describeInterrupted(interrupted)}${unready === 0 ? none : `, ${plural(unready, 'worker')} stopped before ${unready === 1 ? 'it was' : 'they were'} ready`}`);
  }
  // The one cause the primary knew for them all, when it said one (H240, H255); the possible ones otherwise.
  if (failed > 0) parts.push(`${count(failed)} did not stop cleanly (${causeOf(failedCause) ?? "requests cut off, _destroy timed out or threw, a kill, or a non-zero exit: see the cluster's log"})`);
  // Mostly at the timeout; one that wrote what the primary cannot read on its channel is killed at once.
  if (killed > 0) parts.push(`${count(killed)} killed (${causeOf(killedCause) ?? `at the shutdown timeout, or for what ${killed === 1 ? 'it' : 'they'} wrote on ${killed === 1 ? 'its' : 'their'} IPC channel: see the cluster's log`})`);
  if (requestsCut > 0) parts.push(`${plural(requestsCut, 'request')} cut off`);
  // The killed workers' open connections (H609): their clients' next requests failed, in no count above.
  if (Number.isSafeInteger(killedConnectionsReset) && (killedConnectionsReset as number) > 0) parts.push(describeKilledResets(killedConnectionsReset as number));
  // Reset before any worker took them (H358): the cluster's log says so too.
  if (connectionsReset !== undefined && Number.isSafeInteger(connectionsReset) && connectionsReset > 0) {
    parts.push(`${plural(connectionsReset, 'connection')} reset before any worker took ${connectionsReset === 1 ? 'it' : 'them'}`);
  }
  // Slots whose worker had crashed, waiting to fork the next (H454): "0 workers stopped" alone hid them.
  if (Number.isSafeInteger(restartsCancelled) && (restartsCancelled as number) > 0) parts.push(describeCancelledRestarts(restartsCancelled as number));
  return parts.join(', ');
}


/** PM2's relative count (`pm2 scale api +1`, `-1`): kept out of parseArgs, which reads `-1` as an option. */
const kRelativeCount = /^[+-]\d+$/;

export async function scaleCommand(args: string[]): Promise<number | 'help'> {
  const relative = args.filter((arg) => kRelativeCount.test(arg));
  if (relative.length > 1) throw new UsageError(`Unexpected argument "${relative[1]}".`, 'scale');
  const parsed = await singleName('scale', args.filter((arg) => !kRelativeCount.test(arg)), relative.length === 1 ? 1 : 2);
  if (parsed === 'help') return 'help';
  const [name] = parsed;
  // 0 is what a PM2 user types to stop the app's processes: a cluster keeps at least 1 (newcomer t31 L7).
  if (relative.length === 0 && /^[+]?0+$/.test(parsed[1]!)) throw new UsageError(`A cluster keeps at least 1 worker, so it cannot scale to ${parsed[1]}. To stop ${name} and its workers: clusterkit stop ${shellWord(name)}.`, 'scale');
  const watch = new RequestWatch(name, 'scale');
  let status: ScaleReply;
  let count: number;
  try {
    count = relative.length === 1 ? await relativeCount(name, relative[0]!) : parseCount(parsed[1]!, 'The worker count', 'scale');
    status = (await onceStarted(name, 'scale', () => watch.request((hooks) => controlRequest(name, 'scale', { count, hooks }))).catch((error: unknown) => {
      // A count past the cluster's ceiling (its maxWorkers) is bad input, like a count of "many".
      if (error instanceof RemoteError && error.remoteCode === 'ERR_INVALID_OPTION') throw new UsageError(`${name} cannot scale to ${count}: ${remoteMessage(error)}`, 'scale');
      throw error;
    })) as ScaleReply;
  } finally {
    watch.end();
  }
  process.stdout.write(`${describeScale(name, count, status)}\n`);
  // Scaled all the same (exit code as without it): said on stderr, as the primary's log says it (H464).
  const warning = scaleWarning(status);
  if (warning !== undefined) process.stderr.write(`clusterkit: warning: ${warning}\n`);
  return outcomeExitCode(scaleOutcome(status));
}

/**
 * The count `+1` or `-2` makes of the cluster's current one (its target, `status`'s "workers
 * n/<target>"), as PM2's scale does (H262). Two relative scales at once may count from the same figure.
 */
async function relativeCount(name: string, typed: string): Promise<number> {
  const step = Number(typed);
  if (!Number.isSafeInteger(step)) throw new UsageError(`The worker count must be a whole number of workers to add (+1) or remove (-1). Received "${typed}".`, 'scale');
  const { targetWorkers } = (await controlRequest(name, 'status')) as Partial<ClusterStatus>;
  // Another process's answer: a count, or it is not this protocol.
  if (!Number.isSafeInteger(targetWorkers) || (targetWorkers as number) < 0) {
    throw new ControlSocketError(`The cluster ${JSON.stringify(name)} answered "status" without its worker count, so "${typed}" has nothing to count from; scale it to a count instead: clusterkit scale ${shellWord(name)} <n>.`);
  }
  const count = (targetWorkers as number) + step;
  if (count < 1) {
    throw new UsageError(`${name} runs ${plural(targetWorkers as number, 'worker')}, and ${typed} would leave ${count}: a cluster keeps at least 1 worker (to stop it: clusterkit stop ${shellWord(name)}).`, 'scale');
  }
  return count;
}

/** How often a `reload` or `scale` sent during the start asks whether the start has ended. */
const kStartPollMs = 200;

/**
 * Sends a `reload` or `scale` that the primary refuses while its start runs (ERR_INVALID_STATE:
 * the library's words, `reload() needs a started primary (await start() first)`, are no answer
 * for a CLI user, nor is exit 1, as nothing failed): says so once, waits for the start to end,
 * and sends it again (H263). A start that fails ends the primary: exit 4, no cluster of that name.
 */
async function onceStarted(name: string, command: 'reload' | 'scale', send: () => Promise<unknown>): Promise<unknown> {
  let isTold = false;
  let waited = true;
  for (;;) {
    try {
      return await send();
    } catch (error) {
      // Refused again with no start seen in between: the refusal is not the start's.
      if (!(error instanceof RemoteError) || error.remoteCode !== 'ERR_INVALID_STATE' || !waited) throw error;
      if (!isTold) process.stderr.write(`clusterkit: ${name} is still starting; the ${command} waits for its workers to be ready, then runs (Ctrl-C to give up: nothing is ${command === 'reload' ? 'reloaded' : 'scaled'} until then).\n`);
      isTold = true;
      waited = await untilStarted(name);
    }
  }
}

/** Resolves once the cluster's start has ended: true when it was still starting at the first look. */
async function untilStarted(name: string): Promise<boolean> {
  for (let looks = 0; ; looks++) {
    const { state } = (await controlRequest(name, 'status')) as Partial<ClusterStatus>;
    if (state !== 'created' && state !== 'starting') return looks > 0;
    await delay(kStartPollMs);
  }
}

/** Parses `<name>` (and, for scale, `<count>`): exactly `count` positionals. */
async function singleName(command: CommandName, args: string[], count: number): Promise<[string, ...string[]] | 'help'> {
  const { values, positionals } = parseCommand(command, args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) return 'help';
  return checkedName(command, positionals, count);
}

/** `<name>` (and, for scale, `<count>`) of the positionals: exactly `count` of them. */
async function checkedName(command: CommandName, positionals: readonly string[], count: number): Promise<[string, ...string[]]> {
  // Without the name: the running clusters listed, as a wrong name lists them (H402).
  if (positionals.length === 0) throw await missingNameError(command, count === 1 ? 'Missing the cluster name.' : 'Missing the cluster name and the worker count.');
  if (positionals.length < count) throw new UsageError('Missing the worker count.', command);
  if (positionals.length > count) throw new UsageError(`Unexpected argument "${positionals[count]}".`, command);
  return [parseClusterName(positionals[0]!, command), ...positionals.slice(1)];
}

/** Polls until `pid` is gone: `stop` returns only once the primary has really exited. */
/** A stop record this recent (ms) is of a primary that may still be exiting: `stop` waits for its pid to go. */
const kFreshStopMs = 2_000;

async function waitForExit(pid: number): Promise<void> {
  const deadline = Date.now() + kExitWaitMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
