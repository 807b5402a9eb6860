/**
 * A service script (test/fixtures/runner-service.ts) running in its own process group, and
 * the JSON lines its callbacks print in the primary and the workers.
 */
import { jsonLines, kProcessPatienceMs, killSpawned, spawnScript, type Spawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';

export interface ServiceLine {
  event: string;
  [field: string]: unknown;
}

export interface ServiceProcess extends Spawned {
  lines(event?: string): ServiceLine[];
  /** Resolves once `count` lines of `event` (matching `filter`) have been printed. */
  waitForLines(event: string, count?: number, filter?: (line: ServiceLine) => boolean, ms?: number): Promise<ServiceLine[]>;
}

/**
 * Like `spawned.exited()`, but also waits until its output pipes are closed: the exit can be
 * reported before the last lines are read.
 */
export async function exitedWithOutput(spawned: Spawned, ms = kProcessPatienceMs): Promise<number | string> {
  const code = await spawned.exited(ms);
  const streams = [spawned.child.stdout, spawned.child.stderr].filter((stream) => stream !== null);
  await until(() => streams.every((stream) => stream.closed), ms, 'output pipes closed');
  return code;
}

/**
 * Starts the service script, as this run's bundle (its worker modules too) unless `bundled` is
 * false: a test that reads source locations (`module.ts:4:23`) in what it prints runs the
 * TypeScript through tsx.
 */
export function startService(env: Record<string, string>, { bundled = true }: { bundled?: boolean } = {}): ServiceProcess {
  const spawned = spawnScript('test/fixtures/runner-service.ts', { env: { NODE_ENV: 'production', ...env }, detached: true, bundled });
  const lines = (event?: string): ServiceLine[] => jsonLines<ServiceLine>(spawned.stdout()).filter((line) => event === undefined || line.event === event);
  return {
    ...spawned,
    exited: (ms) => exitedWithOutput(spawned, ms),
    lines,
    async waitForLines(event, count = 1, filter = () => true, ms = kProcessPatienceMs) {
      const matching = () => lines(event).filter(filter);
      await until(() => matching().length >= count, ms, `${count} x "${event}" in:\n${spawned.output()}`).catch((error: Error) => {
        throw new Error(`${error.message}\nOutput:\n${spawned.output()}`);
      });
      return matching();
    },
  };
}

/** Kills every service process group still running (primary and workers). */
export function killServices(): void {
  killSpawned();
}
