import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  cleanUpCli();
});

interface Status {
  workers: Array<{ id: number; pid: number; slot: number; state: string }>;
}

async function startSlots(name: string, workers: number, extra: string[] = []) {
  const runtime = runtimeDir();
  const port = await freePort();
  const run = startCli(['run', 'test/fixtures/cli-slot-writer.mjs', '-w', String(workers), '--name', name, ...extra], { runtime, env: { PORT: String(port) } });
  await run.waitFor(new RegExp(`service ${name} started`));
  return { runtime, port, run };
}

async function status(name: string, runtime: string): Promise<Status> {
  const answer = await cli(['status', name, '--json'], { runtime });
  expect(answer.code).toBe(0);
  return JSON.parse(answer.stdout) as Status;
}

/** Sends one raw control request and collects the answer lines until the `ok` or error line. */
async function rawLogs(runtime: string, name: string, request: object): Promise<Array<Record<string, unknown>>> {
  const socket = net.connect(join(runtime, 'clusterkit', `${name}.sock`));
  sockets.push(socket);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.write(`${JSON.stringify({ id: 5, command: 'logs', ...request })}\n`);
  await until(() => /"ok":/.test(received), 15_000, 'an answer');
  socket.destroy();
  return received.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('clusterkit logs --slot', () => {
  it('[H52] follows a slot across a reload and a crash, tells each change once; --worker of a replaced worker says so once', async () => {
    const { runtime, port } = await startSlots('slots', 2);
    const first = (await status('slots', runtime)).workers.find((worker) => worker.slot === 1)!;

    const slot = startCli(['logs', 'slots', '--slot', '1', '--follow', '--lines', '50'], { runtime });
    const json = startCli(['logs', 'slots', '--slot', '1', '--follow', '--lines', '0', '--json'], { runtime });
    const worker = startCli(['logs', 'slots', '--worker', String(first.id), '--follow', '--lines', '0'], { runtime });
    // The backlog: slot 1's worker, and none of slot 0's.
    await slot.waitFor(new RegExp(`\\[slots:${first.id}\\] booted in slot 1\\n`));
    expect(slot.output()).not.toContain('booted in slot 0');
    // Both slot readers follow once a new line of slot 1 reached them (round-robin brings one soon).
    let pings = 0;
    await until(
      async () => {
        await get(`http://127.0.0.1:${port}/say?text=ping${++pings}`);
        return /\] said ping/.test(slot.stdout()) && json.stdout().includes('said ping');
      },
      30_000,
      'a line of slot 1 for both readers',
    );

    expect((await cli(['reload', 'slots'], { runtime })).code).toBe(0);
    const reloaded = (await status('slots', runtime)).workers.find((each) => each.slot === 1 && each.state !== 'stopping')!;
    expect(reloaded.id).not.toBe(first.id);
    await slot.waitFor(new RegExp(`clusterkit: slot 1 is now served by worker ${reloaded.id} \\(reload\\)\\n`));
    await slot.waitFor(new RegExp(`\\[slots:${reloaded.id}\\] booted in slot 1\\n`));
    await worker.waitFor(new RegExp(`clusterkit: worker ${first.id} was replaced by worker ${reloaded.id} \\(reload\\); use --slot 1 to follow the slot\\n`));
    await json.waitFor(/"slotChange"/);
    expect(JSON.parse(json.stdout().split('\n').find((line) => line.includes('"slotChange"'))!)).toEqual({
      name: 'slots',
      slotChange: { slot: 1, workerId: reloaded.id, previousWorkerId: first.id, reason: 'reload' },
    });

    // A crash: the restarted worker serves the slot, and the slot's reader goes on with it.
    process.kill(reloaded.pid, 'SIGKILL');
    const restarted = await slot.waitFor(/clusterkit: slot 1 is now served by worker (\d+) \(restart\)\n/);
    await slot.waitFor(new RegExp(`\\[slots:${restarted[1]}\\] booted in slot 1\\n`));
    expect(slot.output()).not.toContain('booted in slot 0');

    // Stopping the cluster ends every reader; the replaced worker was told of once.
    expect((await cli(['stop', 'slots'], { runtime })).code).toBe(0);
    for (const reader of [slot, json, worker]) await expect(reader.exited()).resolves.toBe(0);
    expect(worker.stderr().split('was replaced by').length - 1).toBe(1);
    expect(slot.stderr().split('clusterkit: slot 1 is now served by').length - 1).toBe(2);
  });

  it('[H52] refuses a slot the cluster does not have (exit 1, the valid range said), waits with --follow for one a scale-up starts', async () => {
    const { runtime } = await startSlots('range', 2, ['--max-workers', '4']);
    const past = await cli(['logs', 'range', '--slot', '2'], { runtime });
    expect([past.code, past.stdout]).toEqual([1, '']);
    expect(past.stderr).toContain('No worker slot 2 in this cluster: its slots are 0 to 1 (2 workers). With --follow, a slot up to 3 is waited for');
    for (const value of ['x', '1.5', '-1']) {
      const wrong = await cli(['logs', 'range', `--slot=${value}`], { runtime });
      expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringContaining(`--slot needs a slot number, an integer: range's slots are 0 to 1 (2 workers)`)]);
    }
    const never = await cli(['logs', 'range', '--slot', '4', '--follow'], { runtime });
    expect([never.code, never.stderr]).toEqual([1, expect.stringContaining('No worker slot 4 can exist in this cluster: its slots are 0 to 1 (2 workers), and at most 4 workers')]);
    const both = await cli(['logs', 'range', '--slot', '1', '--worker', '1'], { runtime });
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--worker and --slot cannot be used together')]);
    // Untrusted input on the socket is checked there too.
    for (const request of [{ slot: '1' }, { slot: -1 }, { slot: 1, workerId: 1 }]) {
      const [answer] = await rawLogs(runtime, 'range', request);
      expect(answer).toMatchObject({ id: 5, ok: false, error: { code: 'ERR_INVALID_ARGUMENT' } });
    }

    const waiting = startCli(['logs', 'range', '--slot', '3', '--follow'], { runtime });
    await waiting.waitFor(/clusterkit: slot 3 has no worker now; waiting for one \(a scale-up starts a slot past the pool; one given up in a crash loop starts again with clusterkit reload \S+\)\n/);
    expect((await cli(['scale', 'range', '4'], { runtime })).code).toBe(0);
    const started = await waiting.waitFor(/clusterkit: slot 3 is now served by worker (\d+) \(scale-up\)\n/);
    await waiting.waitFor(new RegExp(`\\[range:${started[1]}\\] booted in slot 3\\n`));
    const its = startCli(['logs', 'range', '--worker', started[1]!, '--follow', '--lines', '0'], { runtime });
    expect((await cli(['scale', 'range', '2'], { runtime })).code).toBe(0);
    await waiting.waitFor(/clusterkit: slot 3 has no worker any more \(scale-down\)\n/);
    await its.waitFor(new RegExp(`clusterkit: worker ${started[1]} will not be replaced: slot 3 has no worker any more \\(scale-down\\)`));
    // The slot's old lines are still there, without --follow; a refusal names such slots.
    expect((await cli(['logs', 'range', '--slot', '3'], { runtime })).stdout).toContain(`[range:${started[1]}] booted in slot 3\n`);
    expect((await cli(['logs', 'range', '--slot', '4'], { runtime })).stderr).toContain(
      'No worker slot 4 in this cluster: its slots are 0 to 1 (2 workers); slots 2 and 3 had workers before and keep their lines. With --follow',
    );
    expect((await cli(['stop', 'range'], { runtime })).code).toBe(0);
    for (const reader of [waiting, its]) await expect(reader.exited()).resolves.toBe(0);
  });
});
