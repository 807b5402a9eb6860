/**
 * Loading and checking a config file with a deadline. A config is code, and code can wait
 * forever: `export default new Promise(() => {})` (a secret store that never answers) or
 * `while (true) {}` at its top level. The second blocks the thread that imports it, so no timer
 * of that thread can interrupt it: the file is loaded, copied into plain data and checked in a
 * process of its own (config-worker.ts), which the CLI ends when the deadline passes.
 *
 * A process, not a worker thread (H315): `Worker.terminate()` stops a loop of JavaScript, but
 * not a V8 builtin that walks a list of four billion holes (`a.length = 2 ** 32 - 1;
 * a.some(...)`): the thread ran on for minutes, and Node joins every thread before the process
 * exits, so `clusterkit run` printed its usage error and never exited, and a primary under
 * `--watch` gathered one spinning thread per save and outlived its `clusterkit stop`. A
 * process is ended by a signal whatever it runs. It costs a Node start (some 30 to 60 ms more
 * than a thread, once per `run`), and it leads a session of its own (`detached`), so that what
 * the file started is found by its session, even a process whose parent has exited:
 *
 * - a loading given up (the deadline, the cluster stopping, the file's own `process.exit()`)
 *   ends the loading process and every process of its session: SIGTERM, then SIGKILL after
 *   `kDescendantsGraceMs`, each known by its pid and start time (end-descendants.ts), so a pid
 *   given to a new process meanwhile is left alone. A process that left the session
 *   (`detached: true`, `setsid`) is the file's to stop;
 * - a loading that finished leaves what the file started running (a tunnel, a sidecar it
 *   means to keep), and a warning names each: they are not the cluster's, nothing stops them.
 *
 * The loading dies with the CLI (H329): killed (SIGKILL, no 'exit' to end it), the loading
 * process's watchdog thread sees its parent change and SIGKILLs its process group, even while
 * the file's code blocks its main thread (config-worker.ts).
 *
 * Its channel is its file descriptor 3. A file that writes there (bytes that are not a message)
 * or closes it breaks the channel: the answer cannot come any more, and the CLI says so (not
 * "called process.exit(0)") and ends the loading as given up.
 *
 * The cluster's workers are never among them: they are the CLI's children, not the loading
 * process's. The loading process gets the CLI's environment, and what the file sets in
 * `process.env` (`import 'dotenv/config'`) is set in the CLI's once it answers, as for a file
 * loaded in the CLI itself; also its working directory and `process.argv`. Its output goes to
 * the CLI's stdout and stderr. Its `process.exit()` ends only the loading.
 *
 * After `kNoticeMs` the CLI says what it is waiting for; at `kLoadTimeoutMs` it gives up with a
 * usage error naming the file, and what it was doing: loading the file, reading its values (its
 * getters), or checking them (clusterkit's own work: then the file is not blamed).
 *
 * Under `--watch`, a running primary loads its config again when it changes (H306,
 * config-change-check.ts): the same process and deadline, but silent, and what the file sets in
 * `process.env` stays in the loading process: the running cluster's is left as it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { escapeControlChars } from '../../control/control-chars.js';
import { guardChannel } from '../../primary/pool/channel-guard.js';
import { describeError } from '../../readable-error.js';
import { endProcesses, killListed } from '../../worker/end-descendants.js';
import { commandOf, hasNoChildren, readProcessTable, readProcessTableNow, statFields, type ProcessTable } from '../../worker/process-table.js';
import { UsageError } from '../usage-error.js';
import { checkConfig, type ConfigApp } from './check-config.js';
import { loadConfigFile } from './config-file.js';
import { type PlainConfig, toPlainConfig } from './plain-config.js';

/** A config that computes itself (`export default await fetchSecrets()`) gets this long. */
export const kLoadTimeoutMs = 10_000;
/** The loading process's file descriptor of its channel to the CLI (`stdio[3]`). */
const kChannelFd = 3;
/**
 * More than this (bytes) buffered or announced for one message from the loading process marks
 * its channel broken: garbage read as an `advanced` length header announces up to 4 GiB, and an
 * answer (checked apps, the environment) is far smaller.
 */
const kLoaderChannelLimit = 256 * 1024 * 1024;
/** The variable that carries the loading process's request (config-worker.ts). */
export const kLoadRequestVariable = 'CLUSTERKIT_CONFIG_LOAD_REQUEST';
/** How long after its channel ends a loading process that still runs is taken to have closed it (ms). */
const kChannelEndJudgeMs = 1_000;
/** Silence longer than this gets a word on stderr. */
const kNoticeMs = 2_000;

/** What the loading process answers. */
export type LoadAnswer = { apps: ConfigApp[] } | { usage: string; details?: string[] } | { failure: string };

/** How far a loading got: the file's default export is there (`loaded`), its values are copied (`read`). */
export type LoadPhase = 'loaded' | 'read';

/**
 * Loads, copies and checks `path` in this thread, with no deadline (the loading process's job),
 * telling `onPhase` how far it got. Never throws: every outcome is an answer.
 */
export async function loadConfigHere(path: string, onPhase: (phase: LoadPhase) => void = () => {}): Promise<LoadAnswer> {
  try {
    const value = await loadConfigFile(path);
    onPhase('loaded');
    let plain: PlainConfig;
    try {
      plain = toPlainConfig(value);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${path}: ${error.message}`, 'run');
      throw error;
    }
    onPhase('read');
    return { apps: checkConfig(plain.value, path, plain.unreadable) };
  } catch (error) {
    if (error instanceof UsageError) return { usage: error.headline, details: [...error.details] };
    return { failure: `Cannot check the config file ${path}: ${describeError(error).split('\n')[0]}` };
  }
}

/** How `loadConfig` loads a file again for a running cluster (`--watch`, H306). */
export interface LoadOptions {
  /**
   * The file is looked at again while the cluster runs: no "loading..." notice on stderr, and
   * what the config sets in `process.env` is not taken (it must not reach the workers that start later).
   */
  readonly isRecheck?: boolean;
  /** Ends the loading process (the cluster stops); `loadConfig` then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Says a warning about the loading (processes the file started that still run). By default a
   * `clusterkit: warning:` line on stderr; a recheck's goes to the primary's log.
   */
  readonly warn?: (text: string) => void;
}

/**
 * The checked apps of the config file `path`.
 * @throws UsageError when the file cannot be loaded, has a mistake, cannot be read, or has
 * not finished loading within `kLoadTimeoutMs`.
 */
export async function loadConfig(path: string, timeoutMs = kLoadTimeoutMs, options: LoadOptions = {}): Promise<ConfigApp[]> {
  options.signal?.throwIfAborted();
  const script = fileURLToPath(new URL('./config-worker.js', import.meta.url));
  // Run from the sources (tests, tsx) there is no built loader: load here, without a deadline
  // for a loop, with one for a promise.
  const answer = existsSync(script) ? await inProcess(script, path, timeoutMs, options) : await here(path, timeoutMs);
  options.signal?.throwIfAborted();
  if ('apps' in answer) return answer.apps;
  if ('usage' in answer) throw new UsageError(answer.usage, 'run', Array.isArray(answer.details) ? answer.details.map(String) : []);
  throw new Error(answer.failure);
}

/** What the loading process posts (config-worker.ts). */
type LoaderMessage = { phase: LoadPhase } | { answer: LoadAnswer; env?: Record<string, string> };

/** Loading processes still running, each with its start time: ended if the CLI exits first. */
const loaders = new Map<ChildProcess, string | undefined>();

function inProcess(script: string, path: string, timeoutMs: number, options: LoadOptions): Promise<LoadAnswer> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    // `parent`: the loading process ends itself and what it started once its parent is no longer this process.
    const request = JSON.stringify({ path, argv: process.argv, isRecheck: options.isRecheck === true, parent: process.pid });
    // Node's own options (--import, --conditions, a memory limit), not a debugger's port: the CLI holds it.
    const execArgv = process.execArgv.filter((arg) => !/^--(?:inspect|debug)/.test(arg));
    let loader: ChildProcess;
    try {
      loader = spawn(process.execPath, [...execArgv, script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', detached: true, env: { ...env, [kLoadRequestVariable]: request } });
    } catch (error) {
      resolve({ failure: `Cannot load the config file ${path}: cannot start a process to load it: ${describeError(error).split('\n')[0]}` });
      return;
    }
    const startTime = loader.pid === undefined ? undefined : statFields(loader.pid)?.[19];
    if (loaders.size === 0) process.on('exit', killLoadersNow);
    loaders.set(loader, startTime);
    let phase: LoadPhase | undefined;
    let isDone = false;
    const finish = (answer: LoadAnswer, isFinished = false) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(notice);
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      // Finished: what the file started is named, and left to it. Given up: ended with the loading.
      void (isFinished ? leaveLoading(loader, startTime, path, options) : endLoading(loader, startTime)).then(
        () => resolve(answer),
        () => resolve(answer),
      );
    };
    const onAbort = () => finish({ failure: `Loading the config file ${path} was stopped.` });
    const notice = options.isRecheck ? undefined : setTimeout(() => process.stderr.write(`clusterkit: loading ${path}... (waiting for its default export; giving up after ${timeoutMs / 1000} s)\n`), Math.min(kNoticeMs, timeoutMs));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = setTimeout(() => finish({ usage: timeoutMessage(path, timeoutMs, phase) }), timeoutMs);
    loader.on('message', (message: LoaderMessage) => {
      if ('phase' in message) {
        phase = message.phase;
        return;
      }
      if (isDone) return;
      if (message.env !== undefined && !options.isRecheck) applyEnv(env, message.env);
      finish(message.answer, true);
    });
    // The file wrote to the channel's descriptor: its framing is lost, no answer can be read from it.
    guardChannel(loader, kLoaderChannelLimit, () => finish({ usage: brokenChannelMessage(path, 'wrote') }));
    // The channel ended while the loading process still runs (its files open, not exiting): the
    // file closed it. Judged a moment later: a process that exits closes its descriptors one by
    // one before it is a zombie, and under load its exit (code 13, an unsettled default export)
    // was read as a closed channel (CI run on e2cdd31).
    loader.once('disconnect', () => {
      const judge = setTimeout(() => {
        if (!isDone && loader.pid !== undefined && runsWithFilesOpen(loader.pid)) finish({ usage: brokenChannelMessage(path, 'closed') });
      }, kChannelEndJudgeMs);
      loader.once('exit', () => clearTimeout(judge));
    });
    loader.once('error', (error) => finish({ failure: `Cannot load the config file ${path}: ${describeError(error).split('\n')[0]}` }));
    // 'close', not 'exit': every message it sent has been read by then.
    loader.once('close', (code, signal) => {
      finish({ usage: exitMessage(path, code, signal) });
      loaders.delete(loader);
      if (loaders.size === 0) process.off('exit', killLoadersNow);
    });
  });
}

/** What the file set, changed or removed in `process.env` (`after`, against `before`), done in the CLI's. */
function applyEnv(before: Readonly<Record<string, string | undefined>>, after: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(after)) if (before[name] !== value) process.env[name] = value;
  for (const name of Object.keys(before)) if (!Object.hasOwn(after, name)) delete process.env[name];
}

/** The processes of the loading's session (`<pid>:<start time>`), the loading process first; none when its pid is another process's now. */
function sessionOf(table: ProcessTable, pid: number, startTime: string | undefined): string[] {
  const now = table.startTimes.get(pid);
  if (startTime === undefined || (now !== undefined && now !== startTime)) return [];
  const members = [...table.sessions].filter(([member, session]) => session === pid && member !== pid).map(([member]) => `${member}:${table.startTimes.get(member) ?? ''}`);
  return [...(now === undefined ? [] : [`${pid}:${now}`]), ...members];
}

/** A loading given up: the loading process and what it started are ended (SIGTERM, then SIGKILL). */
async function endLoading(loader: ChildProcess, startTime: string | undefined): Promise<void> {
  if (loader.pid === undefined) return;
  const members = sessionOf(await readProcessTable(), loader.pid, startTime);
  if (members.length > 0) await endProcesses(members);
  // No /proc (macOS): the loading process at least; not reaped yet, so still the same process.
  if (loader.exitCode === null && loader.signalCode === null) loader.kill('SIGKILL');
}

/** A loading that answered: the processes the file started and left running are named; the loading process is ended. */
async function leaveLoading(loader: ChildProcess, startTime: string | undefined, path: string, options: LoadOptions): Promise<void> {
  // The usual case, a file that started nothing: one look at the kernel's list, not at every process.
  if (loader.pid !== undefined && !hasNoChildren(loader.pid)) {
    const started = sessionOf(await readProcessTable(), loader.pid, startTime).filter((identity) => !identity.startsWith(`${loader.pid}:`));
    if (started.length > 0) {
      const pids = started.map((identity) => Number(identity.split(':')[0]));
      const shown = pids.slice(0, kNamed).map((pid) => `${pid} (${commandOf(pid)})`);
      const listed = shown.join(', ') + (pids.length > kNamed ? ` and ${pids.length - kNamed} more` : '');
      const text = `${path} started ${pids.length === 1 ? `a process that still runs after its loading: ${listed}` : `${pids.length} processes that still run after its loading: ${listed}`}; clusterkit does not stop ${pids.length === 1 ? 'it' : 'them'} (not ${pids.length === 1 ? 'a worker' : 'workers'} of the cluster): end ${pids.length === 1 ? 'it' : 'them'} in the file, or start ${pids.length === 1 ? 'it' : 'them'} outside the config`;
      (options.warn ?? ((line: string) => process.stderr.write(`clusterkit: warning: ${escapeControlChars(line)}\n`)))(text);
    }
  }
  // Its timers or sockets left behind keep it alive: its job is done.
  if (loader.exitCode === null && loader.signalCode === null) loader.kill('SIGKILL');
}

/** Processes a warning names; more are counted. */
const kNamed = 10;

/** The CLI exits with a loading under way (a signal during the start, a stop): the loading and what it started go with it, at once. */
function killLoadersNow(): void {
  const table = readProcessTableNow();
  for (const [loader, startTime] of loaders) {
    if (loader.pid === undefined || loader.exitCode !== null || loader.signalCode !== null) continue;
    killListed(sessionOf(table, loader.pid, startTime));
    loader.kill('SIGKILL');
  }
}

async function here(path: string, timeoutMs: number): Promise<LoadAnswer> {
  let timer: NodeJS.Timeout | undefined;
  let phase: LoadPhase | undefined;
  const timeout = new Promise<LoadAnswer>((resolve) => {
    timer = setTimeout(() => resolve({ usage: timeoutMessage(path, timeoutMs, phase) }), timeoutMs);
  });
  try {
    return await Promise.race([loadConfigHere(path, (reached) => (phase = reached)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `pid` runs and holds open files: a process that is exiting has closed them all (which
 * ends its channel too) before it is a zombie. False without /proc (macOS): the exit then tells.
 */
function runsWithFilesOpen(pid: number): boolean {
  const state = statFields(pid)?.[0];
  if (state === undefined || state === 'Z' || state === 'X') return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).length > 0;
  } catch {
    return false;
  }
}

/** The loading process's channel broke: the file `wrote` bytes to its descriptor, or `closed` it. */
function brokenChannelMessage(path: string, how: 'wrote' | 'closed'): string {
  const what = how === 'wrote' ? `wrote bytes that are not a message to file descriptor ${kChannelFd}` : `closed file descriptor ${kChannelFd}`;
  return `Cannot load the config file ${path}: the channel to the process loading it broke: the file (or a process it started) ${what}, which is that process's channel to clusterkit, so its answer cannot come. Leave file descriptor ${kChannelFd} alone in the config and in what it starts.`;
}

/** The loading process ended without an answer. */
function exitMessage(path: string, code: number | null, signal: NodeJS.Signals | null): string {
  // config-worker.ts: the default export is a promise nothing can settle any more (no timer,
  // socket or file left that could), so there is no need to wait.
  if (code === 13) return `The config file ${path} never finishes loading: its default export is a promise that nothing can settle any more (no timer, request or file is pending). Fix the file.`;
  if (signal !== null) return `Cannot load the config file ${path}: the process loading it was ended by ${signal} (by the file's own code, or from outside).`;
  return `Cannot load the config file ${path}: it called process.exit(${code}) while loading.`;
}

/** The deadline passed; `phase`: how far the loading got. Only the first step is the file's top level. */
function timeoutMessage(path: string, timeoutMs: number, phase: LoadPhase | undefined): string {
  const seconds = timeoutMs / 1000;
  if (phase === 'loaded') {
    return `The config file ${path} loaded, but reading its values did not finish within ${seconds} s: a getter or a Proxy in its default export that loops or waits. Fix the file: its default export must hold plain values.`;
  }
  if (phase === 'read') {
    return `The config file ${path} loaded and its values were read, but checking them did not finish within ${seconds} s: that is clusterkit's own work, not the file's. A file or directory it names (script, cwd, envFile, watch) may be on a file system that does not answer; if they all answer, please report it as a clusterkit bug.`;
  }
  return `The config file ${path} did not finish loading within ${seconds} s: a loop at its top level, or a default export that waits for something that never comes (a promise never settled, a service that does not answer). Fix the file; a config that fetches values must get them within ${seconds} s.`;
}
