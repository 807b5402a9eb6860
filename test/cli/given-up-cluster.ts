/**
 * A `clusterkit run` of 2 workers with /metrics, one of whose slots the crash-loop breaker gave
 * up on: the code breaks (the flag file exists), then a worker dies and its restarts throw.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

/** `args`: more flags for `run` (`--health-min-ready 2`). */
export async function startWithGivenUpSlot(name: string, args: string[] = []): Promise<{ run: ReturnType<typeof startCli>; runtime: string; healthPort: number; flag: string; slot: number }> {
  const runtime = runtimeDir();
  const healthPort = await freePort();
  const flag = join(tempProject({}), 'broken');
  const run = startCli(['run', 'test/fixtures/cli-fails-on-reload.mjs', '-w', '2', '--name', name, '--health-port', String(healthPort), '--health-host', '127.0.0.1', ...args], {
    runtime,
    env: { CLI_FIXTURE_FLAG: flag },
  });
  await run.waitFor(new RegExp(`service ${name} started: 2 workers`), 30_000);
  writeFileSync(flag, '');
  process.kill(readyPids(run)[0]!, 'SIGKILL');
  const [giveUp] = await run.waitFor(/ERROR worker slot \d could not start 3 times in a row[^\n]*/, 30_000);
  return { run, runtime, healthPort, flag, slot: Number(/worker slot (\d)/.exec(giveUp)![1]) };
}
