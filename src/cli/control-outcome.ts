/**
 * How a `reload` or `scale` went, in one sentence, from what the control socket answered: the
 * one phrasing `clusterkit reload|scale` prints and the dashboard shows (its JSON answer and
 * its page), so neither says "no request cut off" or "scaled" alone when requests were cut off.
 */
import type { ClusterStatus } from '../control/control-protocol.js';
import { describeCancelledRestarts, describeNotReplaced, describeVacant, type StopCounts } from '../control/stop-counts.js';
import { shellWord } from '../shell-word.js';
import { describeEnvChanges } from '../control/env-changes.js';
import { differingInShell } from '../control/env-sums.js';
import { plural } from '../plural.js';
import { describeKilledResets } from '../primary/pool/killed-resets.js';
export { plural };

/** What the control socket answers to `reload` (a primary of an older version sends no counts). */
export type ReloadReply = { readonly crashed?: unknown; readonly workers: number; readonly retired?: number; readonly retiredByStopWorker?: number; readonly vacant?: number; readonly vacantCrashed?: number; readonly joined?: boolean; readonly queued?: boolean; readonly refilled?: number; readonly refillsFailed?: number; readonly env?: { readonly changed?: unknown; readonly added?: unknown; readonly removed?: unknown; readonly files?: unknown; readonly configFile?: unknown; readonly waiting?: unknown; readonly sums?: unknown } } & Partial<StopCounts>;
/** What it answers to `scale`: the status, and how the surplus workers stopped (`ScaleStops`). */
/** `warning`: what the scale leaves wrong, such as fewer workers than /readyz requires (H464); absent from older primaries. */
export type ScaleReply = ClusterStatus & { readonly warning?: unknown } & { readonly stops?: { readonly unclean?: unknown; readonly killedConnectionsReset?: unknown; readonly graceful?: unknown; readonly failed?: unknown; readonly killed?: unknown; readonly failedCause?: unknown; readonly killedCause?: unknown; readonly requestsCut?: unknown; readonly laterScale?: unknown; readonly supersededBy?: unknown; readonly notStarted?: unknown; readonly already?: unknown; readonly restartsCancelled?: unknown } };

/** How the workers a reload or scale stopped went: all zero when clean. */
export interface StopOutcome {
  /** Stopped workers that did not stop cleanly (failed or killed). */
  readonly unclean: number;
  /** Requests the stops cut off. */
  readonly requestsCut: number;
  /** Open connections the stops' kills reset, at least (H609); absent from older primaries' answers. */
  readonly killedConnectionsReset?: number;
}

/**
 * The exit code of `stop`, `reload` and `scale` when the command did what it was asked but
 * cut requests off or a worker did not stop cleanly: not 0, so `clusterkit stop && deploy`
 * does not go on as if nothing was lost (H114); not 1, which says the command itself failed.
 */
export const kExitStopsUnclean = 3;

/** 0 when every stopped worker stopped cleanly and cut nothing off, else `kExitStopsUnclean`. */
export function outcomeExitCode(outcome: StopOutcome): number {
  return outcome.unclean > 0 || outcome.requestsCut > 0 ? kExitStopsUnclean : 0;
}

/**
 * `clusterkit reload`'s exit code: as a stop's (`outcomeExitCode`), and `kExitStopsUnclean` too
 * when slots given up in a crash loop that it started again failed again (H527, deploy tester
 * t55): the reload replaced its workers, but the cluster serves below its target, and
 * `reload api && echo deployed` must not read that as a clean deploy.
 */
export function reloadExitCode(reply: ReloadReply): number {
  return countOf(reply.refillsFailed) > 0 ? kExitStopsUnclean : outcomeExitCode(reloadOutcome(reply));
}

/**
 * How `clusterkit stop`'s answer went (counts of another process: see `countOf`). Connections
 * the primary reset before a worker took them (H358) lost their requests too: counted with those
 * cut off, for the exit code.
 */
export function stopOutcome(reply: Partial<StopCounts>): StopOutcome {
  const outcome = reloadOutcome({ workers: 0, ...reply });
  return { ...outcome, requestsCut: outcome.requestsCut + countOf(reply.connectionsReset) };
}


/** A count read from another process's answer: anything but a positive safe integer counts 0. */
function countOf(value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : 0;
}

export function reloadOutcome(reply: ReloadReply): StopOutcome {
  return { unclean: countOf(reply.failed) + countOf(reply.killed), requestsCut: countOf(reply.requestsCut), ...killedResetsOf(reply.killedConnectionsReset) };
}

/** The scale's warning, as its primary worded it; undefined when there is none. */
export function scaleWarning(reply: ScaleReply): string | undefined {
  return typeof reply.warning === 'string' && reply.warning !== '' ? reply.warning : undefined;
}

export function scaleOutcome(reply: ScaleReply): StopOutcome {
  return { unclean: countOf(reply.stops?.unclean), requestsCut: countOf(reply.stops?.requestsCut), ...killedResetsOf(reply.stops?.killedConnectionsReset) };
}

/** `{ killedConnectionsReset }` when the answer counts some (H609), else nothing: an answer's shape stays as before without them. */
function killedResetsOf(value: unknown): { killedConnectionsReset?: number } {
  const count = countOf(value);
  return count > 0 ? { killedConnectionsReset: count } : {};
}

/**
 * `but 1 request cut off and 1 old worker did not stop cleanly (see the cluster's log)`, or
 * undefined. With `cause`, the one cause the primary gave for the unclean stops, it is said in
 * place of the log (ops t59: `stop` said it, `reload` and `scale` sent the user to the log).
 */
function describeStops(outcome: StopOutcome, workers: string, cause?: string): string | undefined {
  const parts: string[] = [];
  // Not always at the timeout: a worker killed during its stop cut what it held then.
  if (outcome.requestsCut > 0) parts.push(`${plural(outcome.requestsCut, 'request')} cut off`);
  if (outcome.unclean > 0) parts.push(`${plural(outcome.unclean, workers)} did not stop cleanly`);
  if (parts.length === 0) return undefined;
  return `but ${parts.join(' and ')} (${outcome.unclean > 0 && cause !== undefined ? cause : "see the cluster's log"})${(outcome.killedConnectionsReset ?? 0) > 0 ? `, and ${describeKilledResets(outcome.killedConnectionsReset!)}` : ''}`;
}


/** A cause longer than this is no clause of the primary's: the generic words are said instead. */
const kMaxCauseChars = 200;

/** A stop's cause from the primary's answer (`failedCause`, `killedCause`), when it is a short text; else undefined. */
export function causeOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= kMaxCauseChars ? value : undefined;
}

/**
 * The one cause of a reload's or a scale's unclean stops, from the primary's answer: its failed
 * workers' when none was killed, its killed workers' when none failed (`failedCause`,
 * `killedCause`, as `stop` says them); undefined otherwise, or from an older primary.
 */
function uncleanCause(failed: unknown, killed: unknown, failedCause: unknown, killedCause: unknown): string | undefined {
  if (countOf(failed) > 0 && countOf(killed) === 0) return causeOf(failedCause);
  const killedText = countOf(killed) > 0 && countOf(failed) === 0 ? causeOf(killedCause) : undefined;
  return killedText === undefined ? undefined : `killed: ${killedText}`;
}

/**
 * `reloaded web: 2 workers replaced, no request cut off` (only when every old worker stopped
 * cleanly and cut no request off). Not "no downtime": the primary knows what its workers cut,
 * not what every client saw (a client that sends on a keep-alive connection just as it is
 * closed sees the close, and must retry, as HTTP clients do).
 */
/** `shell`: the env of the shell `clusterkit reload` runs in, for `--update-env`'s hint (H400); none from the dashboard. */
export function describeReload(name: string, reply: ReloadReply, shell?: Readonly<Record<string, string | undefined>>): string {
  // Queued (H374): the reload under way had forked new workers before this request, so a second one ran after it.
  const joined =
    reply.queued === true
      ? ' (a reload was under way that had started new workers already: this request waited for it and ran the reload after it)'
      : reply.joined === true
        ? ' (this request joined the reload already under way)'
        : '';
  // Slots a scale-down removed meanwhile (H191): the reload did what was asked for the slots that
  // remain (exit code 0), but "1 worker replaced" alone hid the 2 it did not replace.
  const retired = countOf(reply.retired);
  // Slots with no worker at their turn (H574): nothing replaced there.
  const vacant = countOf(reply.vacant);
  const crashes = crashesOf(reply.crashed);
  // An old worker killed during the reload is both a vacant slot and a crash: said once (retest t64 N9: "1 old worker not stopped" and "meanwhile 1 worker crashed" read as two).
  const isMerged = vacant > 0 && crashes !== undefined && crashes.count <= vacant;
  const notReplaced = `${retired === 0 ? '' : `; ${describeNotReplaced(retired, countOf(reply.retiredByStopWorker))}`}${vacant === 0 ? '' : `; ${isMerged ? describeVacantCrashed(vacant, crashes) : describeVacant(vacant, vacantCrashedOf(reply.vacantCrashed, vacant))}`}`;
  // Old workers that were not ready yet (a restart still booting) are said as such (H211).
  const notReady = countOf(reply.notStarted);
  const before = notReady === 0 ? '' : `; ${plural(notReady, 'old worker')} stopped before ${notReady === 1 ? 'it was' : 'they were'} ready`;
  // Slots given up in a crash loop that the reload started again (H333): all of them when the cluster waited with none.
  const refilled = countOf(reply.refilled);
  // Those of them that did not stay up the startup window (H517): restarted, and given up again after their failed starts.
  const failedAgain = Math.min(refilled, countOf(reply.refillsFailed));
  const failedClause = failedAgain === 0 ? '' : `, ${failedAgain === refilled ? (refilled === 1 ? 'and it' : 'and all of them') : `${failedAgain} of which`} failed again (${failedAgain === 1 ? 'its' : 'their'} crash lines say why)`;
  const again = refilled === 0 ? '' : `; ${plural(refilled, 'worker')} given up in a crash loop started again${failedClause}`;
  const crashed = isMerged ? '' : describeCrashed(crashes, vacant);
  // "No request cut off" is the reload's stops': said so when a crash meanwhile cut some (ops t61).
  const stops = describeStops(reloadOutcome(reply), 'old worker', uncleanCause(reply.failed, reply.killed, reply.failedCause, reply.killedCause)) ?? (crashes === undefined ? 'no request cut off' : 'no request cut off by its stops');
  return `reloaded ${name}${joined}: ${plural(reply.workers, 'worker')} replaced, ${stops}${before}${notReplaced}${again}${crashed}${describeEnvUpdate(reply.env, shell)}`;
}

/** The workers that died on their own while a reload ran (`ReloadCrashes`, H610): how many, and what they cut; undefined for none or an older primary's answer. */
function crashesOf(value: unknown): { count: number; what: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { workers, requestsCut, connectionsReset, isLowerBound } = value as Record<string, unknown>;
  const count = countOf(workers);
  if (count === 0) return undefined;
  const cut = countOf(requestsCut);
  const reset = countOf(connectionsReset);
  const parts = [
    ...(cut > 0 ? [`${isLowerBound === true ? 'at least ' : ''}${plural(cut, 'request')} cut off`] : []),
    ...(reset > 0 ? [`at least ${plural(reset, 'open connection')} reset (a request sent on ${reset === 1 ? 'it' : 'one'} since its last report is lost too)`] : []),
  ];
  return { count, what: parts.length === 0 ? 'no request known cut off' : parts.join(' and ') };
}

/**
 * `; meanwhile 1 worker crashed or was killed, not by the reload: at least 5 open connections
 * reset (...)`: the workers that died on their own while it ran, when they are more than the
 * slots it did not stop (those are said with them: `describeVacantCrashed`); '' for none.
 */
function describeCrashed(crashes: { count: number; what: string } | undefined, vacant: number): string {
  if (crashes === undefined) return '';
  // More crashes than vacant slots (a slot's restart crashed too): the old workers said before are among them.
  const among = vacant === 0 ? '' : ` (the ${vacant === 1 ? 'old worker' : `${vacant} old workers`} above among them)`;
  return `; meanwhile ${plural(crashes.count, 'worker')}${among} crashed or ${crashes.count === 1 ? 'was' : 'were'} killed, not by the reload: ${crashes.what} (the cluster's log says how)`;
}

/**
 * `1 old worker not stopped by the reload: it crashed or was killed during the reload, not by it:
 * no request known cut off (...), and any worker started in its slot since the reload began runs
 * the new code`: the slots whose old worker died on its own (`vacant`), said with the crashes of
 * the reload (no more of them than slots), which are those workers: one count, not two (retest
 * t64 N9). The vacant slots not among the crashes had lost their worker before the reload began,
 * or had none started yet.
 */
function describeVacantCrashed(vacant: number, crashes: { count: number; what: string }): string {
  const head = `${plural(vacant, 'old worker')} not stopped by the reload: `;
  // Not "runs": a vacant slot's restart may still be loading or waiting out its back-off as the reload ends (hostile t75 F5).
  const newCode = `any worker started in ${vacant === 1 ? 'its slot' : 'their slots'} since the reload began runs the new code`;
  const how = `(the cluster's log says how)`;
  if (crashes.count === vacant) {
    const one = vacant === 1;
    return `${head}${one ? 'it' : 'they'} crashed or ${one ? 'was' : 'were'} killed during the reload, not by it: ${crashes.what} ${how}, and ${newCode}`;
  }
  const others = vacant - crashes.count;
  return (
    `${head}${crashes.count} crashed or ${crashes.count === 1 ? 'was' : 'were'} killed during the reload, not by it: ${crashes.what} ${how}; ` +
    `the other${others === 1 ? '' : ` ${others}`} had crashed before it began (or had not started yet); ${newCode}`
  );
}

/**
 * `; env loaded again from .env: GREETING changed; FLAG added` for `--update-env` (H336): names
 * only, never values, the added and removed ones said apart; the settings that wait for a restart
 * after it. Another process's answer: strings only.
 */
function describeEnvUpdate(env: ReloadReply['env'], shell: Readonly<Record<string, string | undefined>> | undefined): string {
  if (env === undefined || typeof env !== 'object' || env === null) return '';
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const changed = strings(env.changed);
  const files = strings(env.files);
  const waiting = strings(env.waiting);
  const from = files.length === 0 ? 'the command line' : listed(files);
  const what = changed.length === 0 ? 'unchanged' : describeEnvChanges({ changed, added: strings(env.added), removed: strings(env.removed) }, 'reply');
  const later = waiting.length === 0 ? '' : `; ${listed(waiting)} changed too, and ${waiting.length === 1 ? 'takes' : 'take'} effect when clusterkit run restarts`;
  // PM2's --update-env takes the calling shell's variables; this one loads the files only
  // (docs/pm2-differences.md). Said, with the settings files' variables this shell has with
  // another value (PM2 migrator t39 M5, H400: `APP_LABEL=v2 clusterkit reload --update-env` said "unchanged").
  const differing = shell === undefined ? [] : differingInShell(env.sums, shell);
  const where = whereToPut(files, typeof env.configFile === 'string' && files.includes(env.configFile) ? env.configFile : undefined);
  const notRead =
    differing.length > 0
      ? `; ${listed(differing)} ${differing.length === 1 ? 'has' : 'have'} another value in this shell, which --update-env does not read (unlike PM2's): it loads the settings files again, not the shell. Put the value in ${where}, then reload --update-env again`
      : shell !== undefined && changed.length === 0
        ? ' (the files only: this shell\'s variables are not read)'
        : '';
  return `; env loaded again from ${from}: ${what}${notRead}${later}`;
}

/**
 * Where a variable goes for --update-env to load it (H420): the cluster's own env files by name,
 * the app's env in its config file; "an env file" only when it has none ("Put the value in
 * .env.rt or an env file" said as if .env.rt were none).
 */
function whereToPut(files: readonly string[], configFile: string | undefined): string {
  if (files.length === 0) return 'an env file (--env-file)';
  const envFiles = files.filter((file) => file !== configFile);
  const inEnvFiles = envFiles.length <= 1 ? (envFiles[0] ?? '') : `one of ${listed(envFiles)}`;
  if (configFile === undefined) return inEnvFiles;
  const inConfig = `the app's env in ${configFile}`;
  return envFiles.length === 0 ? inConfig : `${inConfig} or in ${inEnvFiles}`;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * `scaled web to 1 worker (pid 3775), but 5 requests cut off (see the cluster's log)`. When a
 * later scale was asked while this one ran, the pool is no longer what this one asked for: the
 * line says so, and lists the workers as they are now, those still starting or stopping
 * labelled (H201: before, "scaled to 1 worker (pids 5513, 5981)"); a scale-up whose new workers
 * that later scale removed says it was superseded, which is no failure (exit 0).
 */
export function describeScale(name: string, count: number, reply: ScaleReply): string {
  const workers = Array.isArray(reply.workers) ? reply.workers : [];
  const pids = describeServing(workers);
  const stops = describeStops(scaleOutcome(reply), 'stopped worker', uncleanCause(reply.stops?.failed, reply.stops?.killed, reply.stops?.failedCause, reply.stops?.killedCause));
  // The removed workers that were not ready yet are counted too (H211): before, in no count.
  const notReady = countOf(reply.stops?.notStarted);
  // Beside them, the ready ones it stopped gracefully (ops t61: "2 workers stopped before they were ready" alone, of 3 stopped).
  const graceful = notReady === 0 ? 0 : countOf(reply.stops?.graceful);
  const ready = graceful === 0 ? '' : `${plural(graceful, 'ready worker')} stopped gracefully and `;
  const before = notReady === 0 ? '' : `, ${ready}${plural(notReady, 'worker')} stopped before ${notReady === 1 ? 'it was' : 'they were'} ready`;
  const but = `${before}${stops === undefined ? '' : `, ${stops}`}`;
  const laterScale = countOf(reply.stops?.laterScale) || undefined;
  const supersededBy = countOf(reply.stops?.supersededBy) || undefined;
  if (supersededBy !== undefined) {
    return `scale of ${name} to ${plural(count, 'worker')} superseded: a later scale to ${plural(supersededBy, 'worker')} removed new workers of it before they were ready${but}; now ${describeNow(workers)}`;
  }
  if (reply.stops?.already === true && laterScale === undefined) {
    // Said, so a scale to the target it has is not read as a retry of its errored slots (H284).
    const errored = Array.isArray(reply.givenUpSlots) ? reply.givenUpSlots.length : 0;
    const note = errored === 0 ? '' : `; ${errored} of them errored (given up in a crash loop): fix the code, then clusterkit reload ${shellWord(name)} starts ${errored === 1 ? 'it' : 'them'} again`;
    return `${name} already has a target of ${plural(count, 'worker')}: nothing to do (${pids})${note}`;
  }
  if (laterScale !== undefined && reply.state !== 'stopping' && reply.state !== 'stopped') {
    return `scaled ${name} to ${plural(count, 'worker')}${but}; since then, a later scale asks for ${plural(laterScale, 'worker')}: now ${describeNow(workers)}`;
  }
  // What happened since, when the cluster no longer has the count asked for: a later scale
  // overtook this one, or a shutdown began.
  const since =
    reply.state === 'stopping' || reply.state === 'stopped'
      ? '; since then, the cluster began shutting down'
      : typeof reply.targetWorkers === 'number' && reply.targetWorkers !== count
        ? `; a later scale asks for ${plural(reply.targetWorkers, 'worker')}`
        : '';
  // The slots it removed whose restart waited: said, so `(no worker)` of a slot in back-off is not the whole story (retest t80).
  const cancelled = countOf(reply.stops?.restartsCancelled);
  const cancelledText = cancelled === 0 ? '' : `; ${describeCancelledRestarts(cancelled)}`;
  return `scaled ${name} to ${plural(count, 'worker')} (${pids})${but}${cancelledText}${since}`;
}

/**
 * `pid 4242`, `pids 5513 (starting), 5981`, `no worker`: the worker serving each slot, one not
 * ready yet (a restart in its back-off, a new worker) labelled (newcomer t60: "pids 1493" for one).
 */
function describeServing(workers: ClusterStatus['workers']): string {
  const serving = servingWorkers(workers);
  const label = (worker: (typeof workers)[number]) => (worker.state === 'ready' ? '' : ' (starting)');
  return serving.length === 0 ? 'no worker' : `${serving.length === 1 ? 'pid' : 'pids'} ${serving.map((worker) => `${worker.pid}${label(worker)}`).join(', ')}`;
}

/** `pids 5513, 5981 (starting), 6008 (stopping)`: every live worker, those not serving yet or any more labelled. */
function describeNow(workers: ClusterStatus['workers']): string {
  const serving = servingWorkers(workers);
  const live = [...serving, ...workers.filter((worker) => worker.state === 'stopping')];
  const label = (worker: (typeof workers)[number]) => (worker.state === 'stopping' ? ' (stopping)' : serving.includes(worker) && worker.state !== 'ready' ? ' (starting)' : '');
  return live.length === 0 ? 'no worker' : `${live.length === 1 ? 'pid' : 'pids'} ${live.map((worker) => `${worker.pid}${label(worker)}`).join(', ')}`;
}

/**
 * The worker serving each slot now: not one stopping (a reload's old worker, a surplus one), and
 * for a slot whose replacement is still starting, the worker it replaces. A scale answered during
 * a reload then lists one pid per worker, as its count says.
 */
export function servingWorkers<W extends { readonly slot: number; readonly state: string; readonly id: number }>(workers: readonly W[]): W[] {
  const bySlot = new Map<number, W>();
  for (const worker of workers) {
    if (worker.state === 'stopping' || worker.state === 'exited') continue;
    const other = bySlot.get(worker.slot);
    const isBetter = !other || (other.state !== 'ready' && worker.state === 'ready') || (other.state === worker.state && worker.id > other.id);
    if (isBetter) bySlot.set(worker.slot, worker);
  }
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

/** `vacantCrashed` of another process's answer, when it is a count no greater than `vacant`; else unknown. */
function vacantCrashedOf(value: unknown, vacant: number): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= vacant ? value : undefined;
}
