/**
 * `clusterkit reload <name>`'s progress lines (H398): one per slot as its replacement takes
 * over, `slot 0: worker 5 ready, worker 2 stopped (1/4)`, and the final wait for the startup
 * window, on stderr while the reload runs (stdout keeps the one result line). Read from the
 * primary's event log over the control socket (the `events` request with its cursor, as the
 * dashboard reads it): no protocol of its own, and a primary without that log prints no progress.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { controlRequest } from '../control/control-client.js';
import type { ClusterEvent, EventsPage, OptionNames } from '../control/control-protocol.js';
import { formatElapsed } from '../duration.js';
import { optionNameFor, optionNamesOfAnswer } from './flag-names.js';

/** How often the event log is read while the reload runs. */
const kPollMs = 150;

/** Turns the events after the reload's request into progress lines. */
export class ReloadProgressLines {
  /** Set by the first `reload` event read: the events before it belong to another reload (one under way, which this request queues behind). */
  #total: number | undefined;
  #done = 0;
  /** The newest worker that became ready in each slot since the reload started: the replacement. */
  readonly #ready = new Map<number, number>();
  readonly #said = new Set<number>();
  /** Each slot's worker that exited on its own since the reload started (retest t59: its slot had no line). */
  readonly #exitedOnOwn = new Map<number, ClusterEvent>();

  constructor(readonly optionNames: OptionNames) {}

  /** The lines the events say, in order. */
  lines(events: readonly ClusterEvent[]): string[] {
    const lines: string[] = [];
    for (const event of events) {
      if (event.type === 'reload') {
        // A reload queued behind the one under way starts over (H374).
        this.#total = event.workers ?? 0;
        this.#done = 0;
        this.#ready.clear();
        this.#said.clear();
        this.#exitedOnOwn.clear();
        continue;
      }
      if (this.#total === undefined) continue;
      // The slots given up in a crash loop, started again once the replacements stayed up (H528:
      // before, nothing was said while the reload waited for them, the slots most likely to fail).
      if (event.type === 'crashLoopRefill') {
        const slots = Array.isArray(event.slots) ? event.slots.filter((slot) => Number.isSafeInteger(slot)) : [];
        if (slots.length === 0) continue;
        const named = slots.length === 1 ? `worker slot ${slots[0]}` : `worker slots ${slots.join(', ')}`;
        lines.push(`starting ${named} again with the new code (given up in a crash loop before this reload); the reload ends once ${slots.length === 1 ? 'it' : 'they'} stayed up the startup window`);
        continue;
      }
      // Every slot has had its turn by the final wait and by the end: a slot still unsaid had no
      // old worker to stop (retest t64 N7: one killed just before the reload had no line, "(1/2)" to the end).
      if (event.type === 'reloadWaiting' || event.type === 'reloadComplete') lines.push(...this.#unsaid(event));
      if (event.slot === undefined && event.type !== 'reloadWaiting') continue;
      if (event.type === 'workerReady') {
        this.#ready.set(event.slot!, event.workerId!);
        // A slot whose worker the reload did not stop (H574): its next ready worker serves it.
        const exited = this.#exitedOnOwn.get(event.slot!);
        if (exited !== undefined && !this.#said.has(event.slot!)) {
          this.#said.add(event.slot!);
          this.#done++;
          lines.push(`slot ${event.slot}: worker ${exited.workerId} ${howExited(exited)} before the reload stopped it; worker ${event.workerId} ready (${this.#done}/${this.#total})`);
        }
      } else if (event.type === 'workerExit' && event.expected !== true && event.groupHangup === true) {
        // Killed while loading by a group's SIGHUP (H699): a replacement forked again, or a slot's
        // restart started again; not the slot's old worker ending (retest t73: "worker 3 was
        // killed by SIGHUP before the reload stopped it" for the replacement).
        // Taken for a group's, not known to be one (retest t73 P5): Node cannot tell a signal's sender.
        lines.push(`slot ${event.slot}: worker ${event.workerId}, still loading, was killed by a SIGHUP that came with the primary's own, so taken for one sent to the whole process group; a new worker starts in its place`);
      } else if (event.type === 'workerExit' && event.expected !== true) {
        this.#exitedOnOwn.set(event.slot!, event);
        // Its slot's replacement was ready already, serving beside it (minReadyMs): that one takes the
        // slot over, and no worker of the slot becomes ready after this exit (retest t61 M2: no line, "(1/2)" to the end).
        const replacement = this.#ready.get(event.slot!);
        if (replacement === undefined || replacement === event.workerId || this.#said.has(event.slot!)) continue;
        this.#said.add(event.slot!);
        this.#done++;
        lines.push(`slot ${event.slot}: worker ${replacement} ready, worker ${event.workerId} ${howExited(event)} before the reload stopped it (${this.#done}/${this.#total})`);
      }
      else if (event.type === 'workerExit' && event.expected === true) {
        const replacement = this.#ready.get(event.slot!);
        if (replacement === undefined || replacement === event.workerId || this.#said.has(event.slot!)) continue;
        this.#said.add(event.slot!);
        this.#done++;
        lines.push(`slot ${event.slot}: worker ${replacement} ready, worker ${event.workerId} ${howStopped(event)} (${this.#done}/${this.#total})`);
      } else if (event.type === 'reloadWaiting') {
        const option = optionNameFor('restart.startupWindowMs', this.optionNames);
        const pm2 = this.optionNames === 'flags' ? ", PM2's min_uptime" : '';
        lines.push(
          `waiting ${formatElapsed(event.waitMs ?? 0)} more, until the new workers have stayed up for the ${formatElapsed(event.windowMs ?? 0)} startup window (${option}${pm2}): ` +
            'a reload ends once its new workers outlived it, once per reload, not per slot, so that a build that crashes soon after ready fails the reload',
        );
      }
    }
    return lines;
  }

  /**
   * The slots with no line yet at the reload's final wait or end: those whose old worker had
   * exited before the reload reached them (before it began too), or had not started yet. By
   * slot where a worker of the slot became ready since the reload began, or, at the end, where
   * its worker was seen to exit during it; the rest counted together (`reloadComplete.vacant`).
   */
  #unsaid(event: ClusterEvent): string[] {
    const total = this.#total!;
    const lines: string[] = [];
    for (const [slot, workerId] of this.#ready) {
      if (this.#said.has(slot) || this.#done >= total) continue;
      this.#said.add(slot);
      this.#done++;
      lines.push(`slot ${slot}: worker ${workerId} ready; the slot's old worker had exited before the reload reached it, so it had none to stop (${this.#done}/${total})`);
    }
    if (event.type !== 'reloadComplete') return lines;
    // Killed during the reload, its restart not ready by the end (retest t66 F3: counted with the rest, its slot and its kill unsaid).
    for (const [slot, exited] of this.#exitedOnOwn) {
      if (this.#said.has(slot) || this.#done >= total) continue;
      this.#said.add(slot);
      this.#done++;
      lines.push(`slot ${slot}: worker ${exited.workerId} ${howExited(exited)} before the reload stopped it; the slot is started again with the new code (${this.#done}/${total})`);
    }
    const retired = Number.isSafeInteger(event.retired) ? (event.retired as number) : 0;
    const left = Math.min(total - retired - this.#done, Number.isSafeInteger(event.vacant) ? (event.vacant as number) : 0);
    if (left <= 0) return lines;
    this.#done += left;
    const one = left === 1;
    lines.push(`${left} more ${one ? 'slot' : 'slots'} had no old worker to stop: ${one ? 'its worker' : 'their workers'} had exited before the reload reached ${one ? 'it' : 'them'}, or had not started yet; ${one ? 'its next worker is' : 'their next workers are'} started with the new code (${this.#done}/${total})`);
    return lines;
  }
}

/**
 * How a worker the reload did not stop ended: `was killed by SIGKILL`, or
 * `exited on its own (exit code 1)`. Not "exited on its own" for a signal (retest t64 N9: said
 * of a `kill -9` from outside).
 */
function howExited(event: ClusterEvent): string {
  if (event.killedByPrimary === true) return 'was killed by the primary (see the cluster\'s log)';
  if (typeof event.signal === 'string') return `was killed by ${event.signal}`;
  return `exited on its own (exit code ${typeof event.code === 'number' ? event.code : 'unknown'})`;
}

/**
 * How an old worker of a reload ended, as its `workerExit` event says: "stopped" only for one that
 * stopped as asked. One the primary SIGKILLed (it had not stopped by the shutdown timeout) was
 * called stopped, while the cluster's log said killed (H446).
 */
function howStopped(event: ClusterEvent): string {
  if (event.killedByPrimary === true) return 'killed by the primary (SIGKILL: it had not stopped in time)';
  if (event.stopUnfinished === true) return 'exited before its stop finished';
  if (typeof event.signal === 'string') return `ended by ${event.signal}`;
  if (typeof event.code === 'number' && event.code !== 0) return `stopped with exit code ${event.code}`;
  return 'stopped';
}

/**
 * Writes the progress of the reload `send` asks for to `write` until `send` settles, then the
 * lines its last events say; resolves or rejects as `send` does. Reading the log never fails
 * the reload: a primary that does not keep one (an older clusterkit) just prints no progress.
 */
export async function withReloadProgress<T>(name: string, send: () => Promise<T>, write: (line: string) => void): Promise<T> {
  let cursor: number | undefined;
  let optionNames: OptionNames;
  try {
    // How its lines name the startup window: `--startup-window`, or `restart.startupWindowMs` for a primary of the user's own code.
    optionNames = optionNamesOfAnswer(await controlRequest(name, 'status'));
    cursor = ((await controlRequest(name, 'events', { after: 0 })) as EventsPage).last;
  } catch {
    // Not running, not this user's: the reload's own request says it.
    return send();
  }
  const progress = new ReloadProgressLines(optionNames);
  let isSettled = false;
  const readNew = async (): Promise<void> => {
    const page = (await controlRequest(name, 'events', { after: cursor })) as EventsPage;
    cursor = page.last;
    for (const line of progress.lines(page.events)) write(line);
  };
  const polling = (async () => {
    while (!isSettled) {
      await delay(kPollMs);
      if (!isSettled) await readNew();
    }
  })().catch(() => {});
  try {
    return await send();
  } finally {
    isSettled = true;
    await polling;
    // The slots replaced since the last read are said before the result (or the failure).
    await readNew().catch(() => {});
  }
}
