/**
 * A worker that exits while a process it started (in a session of its own) holds its IPC
 * channel's descriptor: the channel never ends, so node:cluster kept the dead worker in its
 * round-robin handles and the primary kept reading it. Before, one client connection per such
 * worker was handed to it and never answered (the client waited until its own timeout), and
 * whatever the ghost wrote was read in the dead worker's name for as long as it ran.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** How long a request may take before it counts as hung (ms): generous, for a loaded machine. */
const kRequestBoundMs = 10_000;

type Outcome = { status: number; body: string } | 'closed' | 'timeout';

/** GET on a connection of its own: its answer, 'closed' (ended or reset unanswered), or 'timeout' after `ms`. */
function request(port: number, path: string, ms = kRequestBoundMs): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false });
    const release = onCleanup(() => req.destroy());
    const timer = setTimeout(() => finish('timeout'), ms);
    function finish(outcome: Outcome): void {
      clearTimeout(timer);
      release();
      resolve(outcome);
    }
    req.on('error', () => finish('closed'));
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => finish({ status: response.statusCode ?? 0, body }));
      response.on('error', () => finish('closed'));
    });
  });
}

/** Kills the ghost after the test: it is in a session of its own, nothing else ends it. */
function killGhostAfter(pid: number): void {
  onCleanup(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  });
}

/** True once `pid` is reaped (a zombie still answers signal 0). */
function isReaped(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function ghostPid(run: ReturnType<typeof startCli>): Promise<number> {
  const [, pid] = (await run.waitFor(/ghost pid (\d+) of worker/)) as RegExpMatchArray;
  killGhostAfter(Number(pid));
  return Number(pid);
}

describe('a dead worker whose channel a process it started still holds', () => {
  it('[H456] no connection hangs: none is handed to the dead worker, the one it was handed is ended; its channel is closed, told once', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const busy = join(runtime, 'busy-done');
    const run = startCli(['run', 'test/fixtures/cli-ghost-channel.mjs', '-w', '2', '--name', 'ghost'], { runtime, env: { PORT: String(port), GHOST_BUSY: busy } });
    await run.waitFor(/service ghost started: 2 workers/);
    const first = await request(port, '/ghost');
    expect(first).toMatchObject({ status: 200 });
    await ghostPid(run);
    await run.waitFor(/busy now pid/);
    // Four clients while that worker's loop is blocked: the other worker answers three, the one
    // handed to the blocked worker is never acknowledged (it exits with it unread in its channel).
    const during = [request(port, '/', 60_000), request(port, '/', 60_000), request(port, '/', 60_000), request(port, '/', 60_000)];
    let answered = 0;
    for (const outcome of during) void outcome.then((result) => typeof result === 'object' && answered++);
    await until(() => answered >= 3, 30_000, 'three answers from the other worker');
    writeFileSync(busy, '');
    const startedAt = Date.now();
    const last = await Promise.all(during);
    // Before: the fourth waited until the ghost ended (here: the 60 s bound, 'timeout').
    expect(last.filter((outcome) => outcome === 'timeout')).toEqual([]);
    expect(Date.now() - startedAt).toBeLessThan(kRequestBoundMs);
    await run.waitFor(/WARN Worker \d+ \(pid \d+\) exited, but its IPC channel was still open 2 s later: another process holds the worker's end of it/);
    // Then every client is answered: none is handed to the dead worker (before: one hung per dead worker).
    for (let index = 0; index < 8; index++) expect(await request(port, '/')).toMatchObject({ status: 200 });
    expect(run.output().match(/its IPC channel was still open/g)).toHaveLength(1);
    expect(await cli(['stop', 'ghost'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
    expect(run.output()).not.toMatch(/reset before any worker took/);
  });

  it('[H456] an idle worker that exited is handed no connection from its exit on: each client after it is answered', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-ghost-channel.mjs', '-w', '2', '--name', 'ghosti'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service ghosti started: 2 workers/);
    expect(await request(port, '/ghost')).toMatchObject({ status: 200 });
    const [, dead] = (await run.waitFor(/ghost pid \d+ of worker pid (\d+)/)) as RegExpMatchArray;
    await ghostPid(run);
    // Reaped by the primary (no zombie left): its 'exit' was emitted with the reap.
    await until(() => isReaped(Number(dead)), 30_000, 'the worker reaped');
    // Before: the next connection node:cluster handed to the dead worker (it had taken its turn
    // and was free) waited until the ghost ended; here, until the 10 s bound.
    for (let index = 0; index < 4; index++) expect(await request(port, '/')).toMatchObject({ status: 200 });
    await run.waitFor(/its IPC channel was still open/);
    expect(await cli(['stop', 'ghosti'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
  });

  it('[H457] what the ghost writes on the dead worker\'s channel is not read once the primary closed its end', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const closed = join(runtime, 'ghost-closed');
    const run = startCli(['run', 'test/fixtures/cli-ghost-channel.mjs', '-w', '2', '--name', 'ghostw'], { runtime, env: { PORT: String(port), GHOST_WRITES: '1', GHOST_CLOSED: closed } });
    await run.waitFor(/service ghostw started: 2 workers/);
    expect(await request(port, '/ghost')).toMatchObject({ status: 200 });
    await ghostPid(run);
    // Before: never told; the forged `listening` warned about in the dead worker's name every 10 s.
    await run.waitFor(/WARN Worker \d+ \(pid \d+\) exited, but its IPC channel was still open/);
    const closedAt = run.output().length;
    // The primary's end is closed: the ghost's next write fails (EPIPE), nothing of it is read.
    await until(() => existsSync(closed), 30_000, "the ghost's failed write");
    expect(readFileSync(closed, 'utf8')).toBe('EPIPE');
    expect(await cli(['stop', 'ghostw'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
    expect(run.output().slice(closedAt)).not.toMatch(/listening/);
  });

  it('[H459] bytes the ghost writes after the worker exited, before the primary closed its end, are not blamed on the worker', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-ghost-channel.mjs', '-w', '2', '--name', 'ghostg'], { runtime, env: { PORT: String(port), GHOST_WRITES: 'garbage' } });
    await run.waitFor(/service ghostg started: 2 workers/);
    expect(await request(port, '/ghost')).toMatchObject({ status: 200 });
    await ghostPid(run);
    await run.waitFor(/WARN Worker \d+ \(pid \d+\) exited, but its IPC channel was still open/);
    await run.waitFor(/worker 3 replaces worker \d/);
    expect(await cli(['stop', 'ghostg'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
    // Before: `wrote bytes on its IPC channel that are not an IPC message`, then `exited with code 0
    // as it was killed by the primary: its IPC channel carried what the primary cannot read`, and a grown backoff.
    expect(run.output()).not.toMatch(/not an IPC message|killed by the primary|ChannelCorruptError/);
    expect(run.output()).toMatch(/worker 3 replaces worker \d.*delayMs=100/);
  });
});
