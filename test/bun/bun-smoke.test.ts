/**
 * The Bun smoke suite: clusterkit's primary and workers, and the `clusterkit` CLI, run under
 * the Bun of the `bun` dev dependency (installed by `npm ci`, nothing downloaded here). Jest
 * only drives and checks; every cluster process is a bun process. docs/bun.md lists what is
 * covered here and what does not work under Bun.
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { bunPath } from '../helpers/bun.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { killSpawned, spawnNode, type Spawned } from '../helpers/spawn.js';
import { cleanUpCli, kCliPath, runtimeDir } from '../cli/cli-process.js';

let bun: string;

beforeAll(() => {
  bun = bunPath();
});

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

/** Runs one scenario of test/fixtures/bun-cluster.ts under bun; resolves with its RESULT. */
async function scenario<T>(name: string): Promise<T> {
  const run = spawnNode(['test/fixtures/bun-cluster.ts', name], {
    executable: bun,
    env: { PORT: String(await freePort()) },
    detached: true,
    label: `bun test/fixtures/bun-cluster.ts ${name}`,
  });
  const code = await run.exited(20_000);
  const line = run.stdout().match(/^RESULT (.*)$/m);
  if (code !== 0 || !line) throw new Error(`Scenario "${name}" under bun exited ${code}:\n${run.output()}`);
  return JSON.parse(line[1]!) as T;
}

interface Answer {
  status: number;
  pid?: number;
  error?: string;
}

describe('under Bun', () => {
  it('starts a primary and workers, sends with acks, rejects with a remote error, broadcasts and shuts down', async () => {
    const result = await scenario<{
      runtime: string;
      pids: number[];
      replies: Array<{ text: string; pid: number }>;
      failure: { name: string; code: string; message: string };
      broadcast: number[];
      graceful: number;
      killed: number;
    }>('messaging');
    expect(result.runtime).toMatch(/^bun \d/);
    expect(result.pids).toHaveLength(2);
    expect(result.replies.map((reply) => reply.text)).toEqual(['a', 'b']);
    expect(new Set(result.replies.map((reply) => reply.pid))).toEqual(new Set(result.pids));
    expect(result.failure).toMatchObject({ name: 'RemoteError', code: 'ERR_REMOTE' });
    expect(result.failure.message).toContain('RangeError: smoke failure');
    expect(result.broadcast.sort()).toEqual([...result.pids].sort());
    expect(result).toMatchObject({ graceful: 2, killed: 0 });
    await waitUntilGone(result.pids);
  });

  it('serves one port from every worker, and a graceful shutdown answers the request in flight', async () => {
    const result = await scenario<{ pids: number[]; answered: number[]; held: Answer; graceful: number; killed: number }>('http');
    expect(result.answered).toEqual([...result.pids].sort());
    expect(result.held.status).toBe(200);
    expect(result.pids).toContain(result.held.pid);
    expect(result).toMatchObject({ graceful: 2, killed: 0 });
    await waitUntilGone(result.pids);
  });

  it('a worker SIGKILLed with requests in flight: its pending send rejects at once, it is replaced, the other worker finishes its requests', async () => {
    const result = await scenario<{
      victimPid: number;
      heldBy: number[];
      inFlight: { code: string; settledMs: number };
      replacementPid: number;
      echo: { text: string; pid: number };
      answers: Answer[];
      graceful: number;
      killed: number;
    }>('sigkill');
    // Rejected by the death, not by the 30 s timeout of the send.
    expect(result.inFlight.code).toBe('ERR_WORKER_EXITED');
    expect(result.inFlight.settledMs).toBeLessThan(10_000);
    expect(result.replacementPid).not.toBe(result.victimPid);
    expect(result.echo).toEqual({ text: 'after', pid: result.replacementPid });
    // The victim's requests die with it; the survivor's are answered when it stops gracefully.
    const answered = result.answers.filter((answer) => answer.status === 200);
    expect(answered.every((answer) => answer.pid !== result.victimPid)).toBe(true);
    expect(answered).toHaveLength(result.heldBy.filter((pid) => pid !== result.victimPid).length);
    expect(result).toMatchObject({ graceful: 2, killed: 0 });
  });

  it('reloads without dropping the requests in flight', async () => {
    const result = await scenario<{ before: number[]; after: number[]; answers: Answer[]; answered: number[]; graceful: number; killed: number }>('reload');
    expect(result.after.filter((pid) => result.before.includes(pid))).toEqual([]);
    expect(result.answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(result.answers.every((answer) => result.before.includes(answer.pid!))).toBe(true);
    expect(result.answered).toEqual([...result.after].sort());
    expect(result).toMatchObject({ graceful: 2, killed: 0 });
    await waitUntilGone([...result.before, ...result.after]);
  });

  it('advanced serialization, the shared store, worker-to-worker relay, sticky sessions and metrics', async () => {
    const result = await scenario<{
      pids: number[];
      roundTrip: { isDate: boolean; time: number; isMap: boolean; entries: unknown[] };
      counts: number[];
      relayed: { text: string; pid: number };
      bPid: number;
      stickyPids: Array<number | string>;
      readyInMetrics: boolean;
      graceful: number;
      killed: number;
    }>('features');
    expect(result.roundTrip).toEqual({ isDate: true, time: 0, isMap: true, entries: [['x', 1]] });
    expect(result.counts).toEqual([1, 2]);
    expect(result.relayed).toEqual({ text: 'relayed', pid: result.bPid });
    // One client address: every connection reaches the same worker, through the primary.
    expect(new Set(result.stickyPids).size).toBe(1);
    expect(result.pids).toContain(result.stickyPids[0]);
    expect(result.readyInMetrics).toBe(true);
    expect(result).toMatchObject({ graceful: 2, killed: 0 });
    await waitUntilGone(result.pids);
  });

  it('clusterkit run serves a plain script; status, reload (with a request in flight) and stop work over the control socket', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const env = { NODE_ENV: 'production', XDG_RUNTIME_DIR: runtime, PORT: String(port) };
    const cli = (args: string[]): Spawned => spawnNode([kCliPath, ...args], { executable: bun, env, detached: true, label: `bun clusterkit ${args.join(' ')}` });
    const command = async (args: string[]) => {
      const run = cli(args);
      return { code: await run.exited(20_000), stdout: run.stdout(), output: run.output() };
    };

    const run = cli(['run', 'test/fixtures/cli-held-server.mjs', '-w', '1', '--name', 'bunsmoke', '--shutdown-timeout', '20s']);
    await run.waitFor(/service bunsmoke started: 1 worker/);
    const [, firstPid] = (await run.waitFor(/worker 1 ready workerId=1 workerPid=(\d+)/)) as unknown as [string, string];
    expect(JSON.parse((await get(`http://127.0.0.1:${port}/`)).body)).toEqual({ pid: Number(firstPid) });

    const status = await command(['status', 'bunsmoke', '--json']);
    expect(status.code).toBe(0);
    const workers = (JSON.parse(status.stdout) as { workers: Array<{ pid: number; state: string }> }).workers;
    expect(workers).toEqual([expect.objectContaining({ pid: Number(firstPid), state: 'ready' })]);

    // A request in flight across the reload, answered only once the old worker drains: a
    // worker that exits without draining drops it.
    const held = get(`http://127.0.0.1:${port}/hold`, 20_000);
    await run.waitFor(/held \d+/);
    const reload = command(['reload', 'bunsmoke']);
    const [, secondPid] = (await run.waitFor(/worker 2 ready workerId=2 workerPid=(\d+)/, 20_000)) as unknown as [string, string];
    expect(await held).toEqual({ status: 200, body: JSON.stringify({ pid: Number(firstPid) }) });
    expect(await reload).toMatchObject({ code: 0, stdout: 'reloaded bunsmoke: 1 worker replaced, no request cut off\n' });
    expect(JSON.parse((await get(`http://127.0.0.1:${port}/`)).body)).toEqual({ pid: Number(secondPid) });

    expect(await command(['stop', 'bunsmoke'])).toMatchObject({ code: 0 });
    await expect(run.exited()).resolves.toBe(0);
    await waitUntilGone([Number(firstPid), Number(secondPid)]);
  });
});
