/**
 * Running scripts as separate processes (examples, primaries that tests signal or kill).
 * Every process started here is killed after its test (its whole group when detached), and
 * every deadline timer is cleared, even when the test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';

export const kRepoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Default deadline for a process's output or exit: a primary and its tsx workers start slowly on a busy machine. */
export const kProcessPatienceMs = 60_000;

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Everything written to stdout alone: for parsing a report that stderr must not interleave. */
  stdout(): string;
  /** Everything written to stderr alone. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in the output; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name) within `ms`, once all output was read. */
  exited(ms?: number): Promise<number | string>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Leads its own process group: killing it kills its children too. */
  detached?: boolean;
  /** Names the process in failure messages; defaults to the arguments. */
  label?: string;
  /** The program to run instead of node (the Bun smoke suite runs bun). */
  executable?: string;
  /** Working directory. @default the repository */
  cwd?: string;
}

/** Children still running, and whether each leads its own process group. */
const running = new Map<ChildProcess, boolean>();

/**
 * Runs `script` (relative to the repository) with node and tsx; a script of test/fixtures runs
 * as this run's bundle of it instead, without tsx (test/setup/global-setup.mjs: a tsx start
 * costs seconds on a busy machine), unless `bundled: false` (a test that asserts on source
 * locations in the script's output, or one that loads .ts files next to it at run time).
 */
export function spawnScript(script: string, options: SpawnOptions & { args?: string[]; bundled?: boolean } = {}): Spawned {
  const bundles = process.env.CLUSTERKIT_TEST_FIXTURES;
  const bundle = bundles && script.startsWith('test/fixtures/') && join(bundles, script.slice('test/fixtures/'.length).replace(/\.ts$/, '.js'));
  const run = options.bundled !== false && bundle && existsSync(bundle) ? [bundle] : ['--import', 'tsx', script];
  return spawnNode([...run, ...(options.args ?? [])], { label: script, ...options });
}

/** Runs node (or `options.executable`) with `args` in the repository. */
export function spawnNode(args: string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(options.executable ?? process.execPath, args, {
    cwd: options.cwd ?? kRepoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  running.set(child, options.detached ?? false);
  const releaseChild = onCleanup(() => kill(child, options.detached ?? false));
  const label = options.label ?? args.join(' ');
  let output = '';
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  // 'close', not 'exit': only then has all of the output been read.
  const exit = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      // A group leader's children may outlive it: its group is killed after the test.
      if (!options.detached) releaseChild();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(pattern, ms = kProcessPatienceMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (!match) return;
          cleanup();
          resolve(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${pattern} did not appear within ${ms} ms in the output of "${label}":\n${output}`));
        }, ms);
        const cleanup = onCleanup(() => {
          clearTimeout(timer);
          waiters.delete(check);
        });
        waiters.add(check);
        check();
      });
    },
    exited(ms = kProcessPatienceMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`"${label}" did not exit within ${ms} ms. Output:\n${output}`)), ms);
      });
      const release = onCleanup(() => clearTimeout(timer));
      return Promise.race([exit, timeout]).finally(release);
    },
  };
}

/** Kills every spawned process that is still running (its whole group when detached). */
export function killSpawned(): void {
  for (const [child, isGroupLeader] of running) kill(child, isGroupLeader);
  running.clear();
}

function kill(child: ChildProcess, isGroupLeader: boolean): void {
  if (child.pid === undefined) return;
  try {
    // child.kill() is a no-op once the child has exited, so a reused pid is never hit.
    if (isGroupLeader) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The `{"event": ...}` JSON lines of `text` (a process's stdout). Only complete lines: one still
 * being written would not parse. Other output (a stack trace, a log line) is skipped.
 */
export function jsonLines<T>(text: string): T[] {
  const lines: T[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    if (!line.startsWith('{"event"')) continue;
    try {
      lines.push(JSON.parse(line) as T);
    } catch {
      // not one of ours
    }
  }
  return lines;
}
