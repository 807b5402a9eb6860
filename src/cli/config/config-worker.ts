/**
 * The process that loads a config file (config-loader.ts): started with an IPC channel, its
 * request (`{ path, argv, isRecheck }`, JSON) in the variable `kLoadRequestVariable`, not on its
 * command line: the CLI's arguments may hold secrets (`--env TOKEN=...`), and `ps` shows a
 * command line to every user. It posts where the loading is
 * (`{ phase: 'loaded' }` once the file's default export is there, `{ phase: 'read' }` once its
 * values are copied), then one `{ answer, env }`; then the CLI ends it. Built as
 * dist/cli/config-worker.js, next to the CLI bundle.
 *
 * A default export that nothing can settle any more leaves nothing for the loop to wait for:
 * it empties, and the process exits with 13, as Node's own "unsettled top-level await" does.
 *
 * The loading dies with the CLI that asked for it, whatever the file does (H329). The process
 * leads a session and process group of its own (`detached`), so a kill of the CLI's process
 * group does not reach it, and its main thread may never see the channel close: a `while
 * (true) {}` or a V8 builtin spinning at the file's top level. A watchdog thread
 * (`kWatchdogSource`) runs beside it: once the process's parent is no longer the CLI (it was
 * killed: the process was handed to init or a subreaper), it SIGKILLs the process group, the
 * loading process and what the file started with it (unless it left the group: `detached`,
 * `setsid`). A channel that closes while the CLI lives is broken (the file closed file
 * descriptor 3): the process then waits for the CLI, which says so and ends it.
 */
import { Worker } from 'node:worker_threads';
import { kLoadRequestVariable, loadConfigHere } from './config-loader.js';

const request = JSON.parse(process.env[kLoadRequestVariable] ?? '{}') as { path: string; argv: string[]; isRecheck: boolean; parent?: number };
delete process.env[kLoadRequestVariable];
// The config sees the command line it was started with, as in the CLI's own process.
process.argv = request.argv;
/** How often (ms) the watchdog looks at the process's parent: a `getppid()`, nothing more. */
const kWatchdogMs = 100;
/**
 * The watchdog thread: CommonJS, run from a string (no file to find next to the bundle). Its
 * parent changed: the process group (this process leads it, `detached`) is SIGKILLed; not a
 * group leader after all (ESRCH), this process alone.
 */
const kWatchdogSource = `const { workerData } = require('node:worker_threads');
const check = () => {
  if (process.ppid === workerData.parent) return;
  try { process.kill(-process.pid, 'SIGKILL'); } catch { process.kill(process.pid, 'SIGKILL'); }
};
check();
setInterval(check, workerData.everyMs);`;
const parent = typeof request.parent === 'number' ? request.parent : undefined;
/** The CLI is gone: the loading and what the file started are nobody's any more. */
const endGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(0);
  }
};
/** The channel broke while the CLI lives: wait for the CLI to see it and end the process (the watchdog still watches). */
const awaitEnd = () => setInterval(() => {}, 1 << 30);
if (process.channel !== undefined && parent !== undefined) {
  try {
    const watchdog = new Worker(kWatchdogSource, { eval: true, workerData: { parent, everyMs: kWatchdogMs } });
    // A thread that could not start (memory) is no reason to fail the loading: 'disconnect' below still ends an idle one.
    watchdog.on('error', () => {});
    watchdog.unref();
  } catch {
    // No thread to be had (memory): the channel's 'disconnect' below still ends an idle loading.
  }
}
const send = (message: unknown) =>
  process.send?.(message, (error: Error | null) => {
    // The file closed the channel's descriptor: the CLI sees the channel end and ends this process.
    if (error !== null) awaitEnd();
  });
let isAnswered = false;
// The channel alone must not keep the process alive: an empty loop is a promise never settled.
process.channel?.unref();
process.once('beforeExit', () => {
  if (!isAnswered) process.exitCode = 13;
});
process.once('disconnect', () => {
  // The CLI is gone (its process ends before it is no longer this process's parent: the watchdog sees that).
  if (parent === undefined || process.ppid !== parent) endGroup();
  else awaitEnd();
});
void loadConfigHere(request.path, (phase) => send({ phase })).then((answer) => {
  isAnswered = true;
  // What the file set in process.env (`import 'dotenv/config'`) is the cluster's too, unless it is a recheck.
  send({ answer, ...(request.isRecheck ? {} : { env: { ...process.env } }) });
});
