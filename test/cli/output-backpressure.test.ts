/**
 * [H6] Worker output forwarded by `clusterkit run` is untrusted: a line without end, or a
 * primary whose own stdout nobody reads, must not make the primary hold it. Real processes:
 * the built CLI, a worker that floods its stdout, the primary's memory read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { memoryOf } from '../helpers/proc-memory.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, kCliPath, runtimeDir } from './cli-process.js';

const kMiB = 1024 * 1024;
const runs: ChildProcess[] = [];

afterEach(() => {
  for (const child of runs.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  cleanUpCli();
});

/**
 * `clusterkit run` of the flood fixture with one worker, its stdout left unread until
 * `consume()` (the helpers of cli-process.ts keep all output in memory: not for 100 MB).
 */
async function startFlood(env: Record<string, string>) {
  const runtime = runtimeDir();
  const port = await freePort();
  const child = spawn(process.execPath, [kCliPath, 'run', 'test/fixtures/cli-output-flood.mjs', '-w', '1', '--name', 'flood'], {
    env: { ...process.env, NODE_ENV: 'production', XDG_RUNTIME_DIR: runtime, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  runs.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let bytes = 0;
  let head = '';
  let tail = '';
  const consume = () =>
    child.stdout!.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (head.length < 40_000) head += chunk.toString('latin1', 0, 40_000);
      tail = (tail + chunk.toString('latin1')).slice(-64);
    });
  await until(() => stderr.includes('service flood started'), 60_000, `the flood cluster started (stderr: ${stderr})`);
  return {
    pid: child.pid!,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    status: () => controlRequest('flood', 'status', { directory: join(runtime, 'clusterkit'), timeoutMs: 5_000 }),
    consume,
    output: () => ({ bytes, head, tail }),
  };
}

describe('[H6] worker output forwarded by clusterkit run', () => {
  it('[H6] a worker writing 96 MiB without a newline costs the primary a few MiB: the line comes out in marked 16 KiB pieces, status answers meanwhile', async () => {
    const flood = await startFlood({ FLOOD_MB: '96', FLOOD_NEWLINES: 'none' });
    flood.consume();
    const before = memoryOf(flood.pid).peak;
    await get(flood.url('/start'));
    await expect(flood.status()).resolves.toMatchObject({ name: 'flood', state: 'running' });
    await until(() => flood.output().tail.includes('flood done\n'), 30_000, 'the flood went through');
    // Before: the primary held what its reader had not taken yet (+220 MB here; without the line
    // cap, 700 MB took it to 2.6 GB). Now a piece at a time: what grows is V8's young generation
    // under this allocation rate (about 40 MiB, whatever the flood's size).
    expect(memoryOf(flood.pid).peak - before).toBeLessThan(64 * kMiB);
    expect(flood.output().bytes).toBeGreaterThan(96 * kMiB);
    expect(flood.output().head).toMatch(/^\[flood:\d+\] x{16384} \[\.\.\.\]\n\[flood:\d+\] x{16384} \[\.\.\.\]\n/);
  });

  it('[H6] while nobody reads the primary\'s stdout, the worker\'s output waits in the worker; once read, all of it arrives', async () => {
    const flood = await startFlood({ FLOOD_MB: '64' });
    const before = memoryOf(flood.pid).peak;
    await get(flood.url('/start'));
    // The worker has written what the primary read. Wait until that stops growing: the same
    // count on both sides of a status round trip, three times in a row (or the whole flood: the
    // primary read everything, into its own memory).
    let progress = -1;
    let unchanged = 0;
    await until(
      async () => {
        const now = Number((await get(flood.url('/progress'))).body);
        await flood.status();
        unchanged = now === progress ? unchanged + 1 : 0;
        progress = now;
        return unchanged >= 3 || now >= 64 * kMiB;
      },
      20_000,
      'the worker\'s output stalled',
    );
    expect(progress).toBeLessThan(4 * kMiB);
    expect(memoryOf(flood.pid).peak - before).toBeLessThan(32 * kMiB);
    // The primary itself is not blocked: the control socket and HTTP through it still answer.
    await expect(flood.status()).resolves.toMatchObject({ state: 'running' });

    flood.consume();
    await until(() => flood.output().tail.includes('flood done\n'), 30_000, 'the rest of the flood arrived');
    expect(flood.output().bytes).toBeGreaterThan(64 * kMiB);
  });
});
