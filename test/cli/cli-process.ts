/**
 * Running the built `clusterkit` CLI (dist/cli/main.js) as real processes with plain node,
 * as users run it. Each test gets its own runtime directory (XDG_RUNTIME_DIR), so control
 * sockets never meet a real cluster of the user running the tests, nor another test's.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onCleanup } from '../helpers/cleanup.js';
import { kProcessPatienceMs, kRepoRoot, spawnNode, type Spawned } from '../helpers/spawn.js';

export const kCliPath = join(kRepoRoot, 'dist/cli/main.js');

const running = new Set<Spawned>();
const directories: string[] = [];

/** A fresh runtime directory (removed by `cleanUpCli`); short, so socket paths stay short. */
export function runtimeDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-'));
  directories.push(directory);
  onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/**
 * A fresh project directory (removed by `cleanUpCli`) holding `files`, with clusterkit
 * installed as a user's project has it: node_modules/clusterkit (a link to this repository).
 */
export function tempProject(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-project-'));
  directories.push(directory);
  mkdirSync(join(directory, 'node_modules'));
  symlinkSync(kRepoRoot, join(directory, 'node_modules', 'clusterkit'), 'dir');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, name)), { recursive: true });
    writeFileSync(join(directory, name), text);
  }
  return directory;
}

/** Starts `clusterkit <args>` in its own process group. */
export function startCli(args: string[], options: { runtime: string; env?: Record<string, string>; cwd?: string }): Spawned {
  if (!existsSync(kCliPath)) throw new Error(`${kCliPath} is missing: run "npm run build" before the CLI tests.`);
  const run = spawnNode([kCliPath, ...args], {
    env: { NODE_ENV: 'production', XDG_RUNTIME_DIR: options.runtime, ...options.env },
    // Its own process group: the primary and its workers are killed together.
    detached: true,
    label: `clusterkit ${args.join(' ')}`,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  running.add(run);
  run.child.once('close', () => running.delete(run));
  return run;
}

/** Runs `clusterkit <args>` to completion. */
export async function cli(args: string[], options: { runtime: string; env?: Record<string, string>; cwd?: string; ms?: number }): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = startCli(args, options);
  const code = await run.exited(options.ms ?? kProcessPatienceMs);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The worker pids a `run` has reported as ready so far (from its log lines). */
export function readyPids(run: Spawned): number[] {
  return [...run.output().matchAll(/worker \d+ ready workerId=\d+ workerPid=(\d+)/g)].map((match) => Number(match[1]));
}

/** Kills every CLI process still running, with its workers, and removes the runtime directories. */
export function cleanUpCli(): void {
  for (const { child } of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
}
