/**
 * `--gradual-drain` / `gradualDrain` reach the primary: in a reload, the retiring worker keeps
 * a second keep-alive connection open long after it released the first (a long drain), or
 * releases both together (0). Each connection is idle, so its release shows as its close.
 */
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = `${process.cwd()}/test/fixtures/cli-keepalive-server.mjs`;
/** Longer than the default drain (1 s), which would have released the second connection by then. */
const kKeptAliveMs = 1_500;

interface Answer {
  pid: number;
  /** The response's `Connection` header. */
  connection: string;
  /** Whether it came on the connection's first socket, still open. */
  isSameSocket: boolean;
}

/** One keep-alive connection (an agent of one socket); a request after the server closed it opens another. */
function connection(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  onCleanup(() => agent.destroy());
  let first: Socket | undefined;
  let isClosed = false;
  const ask = () =>
    new Promise<Answer>((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, agent, timeout: 10_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ pid: (JSON.parse(body) as { pid: number }).pid, connection: String(response.headers.connection), isSameSocket: request.socket === first }));
      });
      request.on('socket', (socket: Socket) => {
        if (first) return;
        first = socket;
        socket.once('close', () => (isClosed = true));
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
    });
  return { ask, isClosed: () => isClosed, close: () => agent.destroy() };
}

/**
 * Starts the cluster (one worker), opens connections A then B to it, starts a reload and waits
 * until the retiring worker released A (the first of its connections).
 */
async function reloadWithTwoConnections(args: string[], cwd?: string) {
  const runtime = runtimeDir();
  const port = await freePort();
  const run = startCli(args, { runtime, env: { PORT: String(port) }, ...(cwd ? { cwd } : {}) });
  await run.waitFor(/service gd started/);
  const [a, b] = [connection(port), connection(port)];
  const oldPid = (await a.ask()).pid;
  // B opens after A: the drain releases connections in the order they came.
  expect(await b.ask()).toEqual({ pid: oldPid, connection: 'keep-alive', isSameSocket: true });
  const reload = cli(['reload', 'gd'], { runtime });
  await until(() => a.isClosed(), 30_000, 'the retiring worker released connection A');
  return { run, runtime, reload, oldPid, b };
}

async function stop(run: ReturnType<typeof startCli>, runtime: string) {
  expect((await cli(['stop', 'gd'], { runtime })).code).toBe(0);
  await expect(run.exited()).resolves.toBe(0);
}

describe('--gradual-drain and gradualDrain', () => {
  const project = () =>
    tempProject({ 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'gd', script: kServer, workers: 1, shutdownTimeout: '10m', gradualDrain: '2m' }] }) });

  it.each<[string, () => { args: string[]; cwd?: string }]>([
    ['the flag', () => ({ args: ['run', kServer, '-w', '1', '--name', 'gd', '--shutdown-timeout', '10m', '--gradual-drain', '2m'] })],
    ['the config key', () => ({ args: ['run'], cwd: project() })],
  ])('a long drain, from %s: the retiring worker keeps serving connection B, kept alive, after it released A', async (_, setup) => {
    const { args, cwd } = setup();
    const { run, runtime, reload, oldPid, b } = await reloadWithTwoConnections(args, cwd);
    // B's turn comes 1 min after A's (2m over 2 connections); with the default, 0.5 s after.
    const releasedAt = Date.now();
    while (Date.now() - releasedAt < kKeptAliveMs) {
      expect(await b.ask()).toEqual({ pid: oldPid, connection: 'keep-alive', isSameSocket: true });
    }
    // Its last connection gone, the old worker stops, and the reload completes.
    b.close();
    expect(await reload).toMatchObject({ code: 0, stdout: 'reloaded gd: 1 worker replaced, no request cut off\n' });
    await stop(run, runtime);
  });

  it('--gradual-drain 0 over the file\'s gradualDrain: the retiring worker releases both connections at once', async () => {
    const { run, runtime, reload, oldPid, b } = await reloadWithTwoConnections(['run', '--gradual-drain', '0'], project());
    // Released with A: B is closed, or closing (its next answer says `Connection: close`, or it
    // was reset), or the request went on a new connection, to the new worker.
    const answer = await b.ask().catch((error: NodeJS.ErrnoException) => ({ error: error.code }));
    expect(answer).not.toEqual({ pid: oldPid, connection: 'keep-alive', isSameSocket: true });
    b.close();
    expect(await reload).toMatchObject({ code: 0, stdout: 'reloaded gd: 1 worker replaced, no request cut off\n' });
    await stop(run, runtime);
  });
});

describe('overlapping scales', () => {
  it('[H38] a scale-up during a scale-down\'s drain sets the target: the last scale asked for, and the first says it was overtaken', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', kServer, '-w', '3', '--name', 'ov', '--gradual-drain', '20s', '--shutdown-timeout', '2m'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service ov started/);
    // Idle keep-alive connections, until every worker holds at least three (each one's pid is
    // asked once): the two that leave hand theirs over slowly, the last turn 13 s or more into
    // the drain, so the scale-up below finishes first even on a loaded machine.
    const sockets: net.Socket[] = [];
    onCleanup(() => sockets.forEach((socket) => socket.destroy()));
    const perPid = new Map<number, number>();
    while (perPid.size < 3 || [...perPid.values()].some((count) => count < 3)) {
      if (sockets.length >= 60) throw new Error(`connections spread unevenly: ${JSON.stringify([...perPid])}`);
      const socket = net.connect(port, '127.0.0.1');
      sockets.push(socket);
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      let answer = '';
      socket.setEncoding('utf8');
      await new Promise<void>((resolve) => {
        const onData = (chunk: string) => {
          answer += chunk;
          if (!answer.includes('}')) return;
          socket.off('data', onData);
          resolve();
        };
        socket.on('data', onData);
      });
      const pid = (JSON.parse(answer.slice(answer.indexOf('{'))) as { pid: number }).pid;
      perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
    }
    const status = async () => JSON.parse((await cli(['status', 'ov', '--json'], { runtime })).stdout) as { targetWorkers: number; workers: Array<{ state: string }> };
    const down = cli(['scale', 'ov', '1'], { runtime, ms: 120_000 });
    await until(async () => (await status()).workers.some((worker) => worker.state === 'stopping'), 30_000, 'the scale-down draining');
    expect(await cli(['scale', 'ov', '3'], { runtime })).toMatchObject({ code: 0 });
    for (const socket of sockets) socket.destroy();
    const first = await down;
    expect(first.code).toBe(0);
    // The pids as they are when the reply is written, the later scale's new workers among them (H201).
    expect(first.stdout).toMatch(/^scaled ov to 1 worker; since then, a later scale asks for 3 workers: now pids \d+( \((starting|stopping)\))?(, \d+( \((starting|stopping)\))?)*\n$/);
    const after = await status();
    expect(after.targetWorkers).toBe(3);
    expect(after.workers.filter((worker) => worker.state !== 'stopping')).toHaveLength(3);
    expect((await cli(['stop', 'ov'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
