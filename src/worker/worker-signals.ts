/**
 * Signals a worker must not die of (H79), as the primary does not (ignored-signals.ts, H69).
 * nodemon and some process managers signal a whole process tree, so SIGUSR2 reaches each worker
 * too, where Node's default action ended it at once: a crash the primary reported and restarted
 * for nothing. A worker logs it on its stderr (one line, at most one per 10 s, tagged as the
 * service's own lines are when the service runner started it) and runs on; a worker whose code
 * listens for it itself (heapdump, a log reopener), before or after start(), gets it silently.
 *
 * SIGHUP too: a terminal that hangs up on a foreground `clusterkit run`, or `kill -HUP -<pgid>`,
 * signals the whole process group, workers included, where Node's default action killed every
 * one of them with its requests (a hostile tester: 20 of 20 reset) while the primary, told the
 * same, began a reload. The primary's reload is what SIGHUP means here; the worker runs on.
 * A `kill -HUP <worker pid>` reaches the worker alone, and nothing reloads: the worker cannot
 * tell the two apart, so it asks the primary what it did with a SIGHUP of its own (`$hangup`)
 * and words its line by the answer (t30 M-B: it promised a replacement that never came, H291).
 */
import cluster from 'node:cluster';
import { workerLogger } from './worker-logger.js';
import { ignoreSignals, isOwnListener, markOwnListener, signalWarning } from '../primary/lifecycle/ignored-signals.js';
import type { HangupOutcome, HangupReply } from '../messaging/system-types.js';
import { shellWord } from '../shell-word.js';
import type { RateLimitedWarning } from '../primary/pool/rate-limited-warning.js';

const kListenAdvice = "To act on SIGHUP in the worker (reopen a log file), listen for it: process.on('SIGHUP', ...).";
const kGroup = "it reached the worker with its primary's process group (a terminal's hangup, kill -HUP -<pgid>)";

/**
 * The SIGHUP line after "worker 3 (pid 4242): ", by what the primary did with its own; `name`:
 * the cluster's, when its primary serves a control socket.
 */
export function hangupLine(outcome: HangupOutcome, since: string, primaryPid: number, name?: string): string {
  const head = `SIGHUP ignored${since}: `;
  switch (outcome) {
    case 'reload':
      return `${head}${kGroup}; the primary reloads the workers on SIGHUP, one at a time, so this worker is replaced in its turn. ${kListenAdvice}`;
    case 'starting':
      return `${head}${kGroup}; the primary ignores it while the service is still starting (its own line says so), so nothing reloads. ${kListenAdvice}`;
    case 'stopping':
      return `${head}${kGroup}; the primary is shutting down, so nothing reloads. ${kListenAdvice}`;
    case 'none':
      return (
        `${head}it came to this worker alone (kill -HUP <worker pid>), not to its primary (pid ${primaryPid}), so nothing reloads and this worker runs on. ` +
        `To reload the workers: ${name === undefined ? '' : `clusterkit reload ${shellWord(name)}, or `}kill -HUP ${primaryPid}. ${kListenAdvice}`
      );
    case 'unknown':
      return `${head}clusterkit reloads the workers on a SIGHUP to the primary (pid ${primaryPid}) or \`clusterkit reload\`, not on one to a worker; this worker runs on. ${kListenAdvice}`;
  }
}

/**
 * Installs the listeners for the worker's life. `[clusterkit] WARN worker 3 (pid 4242): SIGUSR2 ignored: ...`.
 * `askPrimary` answers what the primary did with its own SIGHUP (`unknown` when it cannot say).
 */
export function ignoreWorkerSignals(askPrimary: () => Promise<HangupReply>): void {
  const who = `worker ${cluster.worker?.id ?? '?'} (pid ${process.pid})`;
  ignoreSignals(
    workerLogger,
    (signal, since) =>
      `${who}: ${signal} ignored${since}: clusterkit reloads the workers on SIGHUP to the primary (or \`clusterkit reload\`) and stops them on SIGTERM or SIGINT to it. ` +
      `nodemon restarts with SIGUSR2: give it --signal SIGTERM, or use clusterkit run --watch. To act on ${signal} in the worker (heapdump), listen for it: process.on('${signal}', ...).`,
  );
  if (process.platform === 'win32') return;
  // One rate-limited line per answer: a group's SIGHUP and one to this worker alone are told apart.
  const warnings = new Map<HangupOutcome, RateLimitedWarning<number>>();
  const warn = ({ outcome, name }: HangupReply): void => {
    let warning = warnings.get(outcome);
    if (!warning) {
      warning = signalWarning('SIGHUP', (_signal, since) => `${who}: ${hangupLine(outcome, since, process.ppid, name)}`, (text, count) => workerLogger()?.warn({ signal: 'SIGHUP', count }, text));
      warnings.set(outcome, warning);
    }
    warning.note(1);
  };
  const onHangup = (): void => {
    if (process.listeners('SIGHUP').some((other) => !isOwnListener(other))) return;
    askPrimary().then(warn, () => warn({ outcome: 'unknown' }));
  };
  markOwnListener(onHangup);
  process.on('SIGHUP', onHangup);
}
