/**
 * A real 1-worker `clusterkit run` to freeze (SIGSTOP), for the tests of what the CLI says of a
 * primary that does not answer. Every frozen primary is resumed (SIGCONT) after its test.
 */
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { runtimeDir, startCli } from './cli-process.js';

/** Starts a 1-worker cluster `name` and returns its `run` (the primary's process), runtime directory and pid. */
export async function cluster(name: string, extra: string[] = []): Promise<{ run: ReturnType<typeof startCli>; runtime: string; pid: number }> {
  const runtime = runtimeDir();
  const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', name, ...extra], { runtime, env: { PORT: String(await freePort()) } });
  await run.waitFor(new RegExp(`service ${name} started`));
  return { run, runtime, pid: run.child.pid! };
}

/** Stops the process `pid` (SIGSTOP) until the test ends, or until the returned function resumes it. */
export function freeze(pid: number): () => void {
  process.kill(pid, 'SIGSTOP');
  return onCleanup(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  });
}

/** What the CLI says of a primary whose process is stopped. */
export const kStoppedWords = (pid: number) => `its process is stopped (kill -STOP or a debugger; kill -CONT ${pid} resumes it)`;
