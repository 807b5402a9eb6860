/**
 * Loading and checking a config file with a deadline. A config is code, and code can wait
 * forever: `export default new Promise(() => {})` (a secret store that never answers) or
 * `while (true) {}` at its top level. The second blocks the thread that imports it, so no timer
 * of that thread can interrupt it: the file is loaded, copied into plain data and checked in a
 * worker thread, which the CLI ends when the deadline passes (`Worker.terminate` stops even a
 * loop). A child process would do too, but costs a whole Node start (~40 ms against ~15 ms) and
 * would not share the environment; a "still loading" notice alone would leave the user to kill
 * the CLI. The worker shares the process's environment (`SHARE_ENV`: a config that runs
 * `import 'dotenv/config'` still sets variables for the cluster, as in the CLI's own thread),
 * its working directory and `process.argv`; a config cannot `process.chdir()` (Node refuses it
 * in worker threads) and its `process.exit()` ends only the loading.
 *
 * After `kNoticeMs` the CLI says what it is waiting for; at `kLoadTimeoutMs` it gives up with a
 * usage error naming the file.
 *
 * Under `--watch`, a running primary loads its config again when it changes (H306,
 * config-change-check.ts): the same thread and deadline, but silent, and with a copy of the
 * environment, so that the running cluster's is left as it started.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { describeError } from '../../readable-error.js';
import { UsageError } from '../usage-error.js';
import { checkConfig, type ConfigApp } from './check-config.js';
import { loadConfigFile } from './config-file.js';
import { toPlainConfig } from './plain-config.js';

/** A config that computes itself (`export default await fetchSecrets()`) gets this long. */
export const kLoadTimeoutMs = 10_000;
/** Silence longer than this gets a word on stderr. */
const kNoticeMs = 2_000;

/** What the loading thread answers. */
export type LoadAnswer = { apps: ConfigApp[] } | { usage: string; details?: string[] } | { failure: string };

/**
 * Loads, copies and checks `path` in this thread, with no deadline (the worker thread's job).
 * Never throws: every outcome is an answer.
 */
export async function loadConfigHere(path: string): Promise<LoadAnswer> {
  try {
    const value = await loadConfigFile(path);
    let plain: unknown;
    try {
      plain = toPlainConfig(value);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${path}: ${error.message}`, 'run');
      throw error;
    }
    return { apps: checkConfig(plain, path) };
  } catch (error) {
    if (error instanceof UsageError) return { usage: error.headline, details: [...error.details] };
    return { failure: `Cannot check the config file ${path}: ${describeError(error).split('\n')[0]}` };
  }
}

/** How `loadConfig` loads a file again for a running cluster (`--watch`, H306). */
export interface LoadOptions {
  /**
   * The file is looked at again while the cluster runs: no "loading..." notice on stderr, and
   * the config gets a copy of the environment, not the process's own (what it sets in
   * `process.env` must not reach the workers that start later).
   */
  readonly isRecheck?: boolean;
  /** Ends the loading thread (the cluster stops); `loadConfig` then throws the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * The checked apps of the config file `path`.
 * @throws UsageError when the file cannot be loaded, has a mistake, cannot be read, or has
 * not finished loading within `kLoadTimeoutMs`.
 */
export async function loadConfig(path: string, timeoutMs = kLoadTimeoutMs, options: LoadOptions = {}): Promise<ConfigApp[]> {
  options.signal?.throwIfAborted();
  const script = fileURLToPath(new URL('./config-worker.js', import.meta.url));
  // Run from the sources (tests, tsx) there is no built worker: load here, without a deadline
  // for a loop, with one for a promise.
  const answer = existsSync(script) ? await inWorker(script, path, timeoutMs, options) : await here(path, timeoutMs);
  options.signal?.throwIfAborted();
  if ('apps' in answer) return answer.apps;
  if ('usage' in answer) throw new UsageError(answer.usage, 'run', Array.isArray(answer.details) ? answer.details.map(String) : []);
  throw new Error(answer.failure);
}

function inWorker(script: string, path: string, timeoutMs: number, options: LoadOptions): Promise<LoadAnswer> {
  return new Promise((resolve) => {
    // A recheck's config gets a copy of the environment (Worker's default): the running cluster's is not its to change.
    const worker = new Worker(script, { workerData: { path, argv: process.argv }, ...(options.isRecheck ? {} : { env: SHARE_ENV }) });
    let isDone = false;
    const onAbort = () => finish({ failure: `Loading the config file ${path} was stopped.` });
    const finish = (answer: LoadAnswer) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(notice);
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      // A config may leave timers or sockets behind; the thread's job is done.
      void worker.terminate();
      resolve(answer);
    };
    const notice = options.isRecheck ? undefined : setTimeout(() => process.stderr.write(`clusterkit: loading ${path}... (waiting for its default export; giving up after ${timeoutMs / 1000} s)\n`), Math.min(kNoticeMs, timeoutMs));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = setTimeout(() => finish({ usage: timeoutMessage(path, timeoutMs) }), timeoutMs);
    worker.once('message', (answer: LoadAnswer) => finish(answer));
    worker.once('error', (error) => finish({ failure: `Cannot load the config file ${path}: ${describeError(error).split('\n')[0]}` }));
    worker.once('exit', (code) => finish({ usage: exitMessage(path, code) }));
  });
}

async function here(path: string, timeoutMs: number): Promise<LoadAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<LoadAnswer>((resolve) => {
    timer = setTimeout(() => resolve({ usage: timeoutMessage(path, timeoutMs) }), timeoutMs);
  });
  try {
    return await Promise.race([loadConfigHere(path), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The thread ended without an answer. */
function exitMessage(path: string, code: number): string {
  // Node's "unsettled top-level await": the default export is a promise nothing can settle
  // any more (no timer, socket or file left that could), so there is no need to wait.
  if (code === 13) return `The config file ${path} never finishes loading: its default export is a promise that nothing can settle any more (no timer, request or file is pending). Fix the file.`;
  return `Cannot load the config file ${path}: it called process.exit(${code}) while loading.`;
}

function timeoutMessage(path: string, timeoutMs: number): string {
  return `The config file ${path} did not finish loading within ${timeoutMs / 1000} s: a loop at its top level, or a default export that waits for something that never comes (a promise never settled, a service that does not answer). Fix the file; a config that fetches values must get them within ${timeoutMs / 1000} s.`;
}
