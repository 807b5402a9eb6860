/**
 * [H440] A control request is asked again only when the primary says why it gave no answer: its
 * "already has N connections open" refusal (H430), or the word it sends an idle connection it
 * closes to make room for a newer one. A connection closed with no word (a primary exiting,
 * crashed, out of descriptors) fails at once. Before, `status`, `describe` and `events` were asked
 * again on any close for 10 s (and more: each ask got its full timeout), so `clusterkit status`
 * of a primary that drops connections took 10 s to fail.
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { kRoomMadeWords } from '../../src/control/busy-retry.js';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlHandlers } from '../../src/control/control-server.js';
import { readLines } from '../../src/control/control-protocol.js';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, cli, runtimeDir } from './cli-process.js';

afterEach(() => cleanUpCli());

/** A listener on the socket of cluster `name` in a fresh runtime directory, serving each connection with `serve`; how many connected. */
async function fakePrimary(name: string, serve: (socket: net.Socket, line: string, index: number) => void): Promise<{ runtime: string; directory: string; connections: () => number }> {
  const runtime = runtimeDir();
  const directory = join(runtime, 'clusterkit');
  mkdirSync(directory, { mode: 0o700 });
  let count = 0;
  const server = net.createServer((socket) => {
    const index = count++;
    socket.on('error', () => {});
    onCleanup(() => socket.destroy());
    // Mid-request: the request line is read, then the listener acts.
    readLines(socket, (line) => serve(socket, line, index), () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(join(directory, `${name}.sock`), resolve));
  onCleanup(() => server.close());
  return { runtime, directory, connections: () => count };
}

describe('[H440] what a control request is asked again on', () => {
  it('[H440] clusterkit status of a primary that closes the connection mid-request fails at once, asked once', async () => {
    const { runtime, connections } = await fakePrimary('closing', (socket) => socket.destroy());
    const startedAt = Date.now();
    const { code, stderr } = await cli(['status', 'closing'], { runtime, ms: 60_000 });
    const tookMs = Date.now() - startedAt;
    expect(code).toBe(1);
    expect(stderr).toMatch(/did not answer "status": it closed the connection unanswered/);
    // Asked once: the old code asked again for 10 s (some 20 connections).
    expect(connections()).toBe(1);
    // A generous bound for a loaded machine: the old code took 10 s at least.
    expect(tookMs).toBeLessThan(5_000);
  }, 90_000);

  it('[H440] a request whose idle connection was closed to make room, the primary saying so, is asked again and answered', async () => {
    const status = { name: 'roomy', pid: process.pid, state: 'running', workers: [] };
    const { directory, connections } = await fakePrimary('roomy', (socket, line, index) => {
      const { id } = JSON.parse(line) as { id: number };
      const answer =
        index % 2 === 0
          ? { id: 0, ok: false, error: { name: 'ControlSocketError', code: 'ERR_CONTROL_SOCKET', message: `The cluster's control socket ${kRoomMadeWords} for a newer one; ask again.` } }
          : { id, ok: true, result: status };
      socket.end(`${JSON.stringify(answer)}\n`);
    });
    // `stop` too: the primary said the request was not run.
    for (const command of ['status', 'stop'] as const) {
      expect(await controlRequest('roomy', command, { directory, timeoutMs: 30_000 })).toMatchObject({ name: 'roomy' });
    }
    // Each closed to make room once, then answered.
    expect(connections()).toBe(4);
  });

  it('[H440] a full control socket tells the idle connection it closes to make room', async () => {
    const runtime = runtimeDir();
    const handlers: ControlHandlers = {
      status: () => ({ name: 'cap', pid: process.pid, state: 'running', workers: [] }) as unknown as ClusterStatus,
      reload: async () => ({}),
      scale: async (count) => ({ count }),
      stop: async () => ({}),
      afterStop: () => {},
      events: (after) => ({ events: [], last: after, missed: 0 }),
    };
    const server = await startControlServer('cap', handlers, join(runtime, 'clusterkit'), { maxConnections: 1, idleTimeoutMs: 60_000, lineTimeoutMs: 60_000 });
    onCleanup(() => server.close());
    // An idle connection: connected, no request sent.
    const idle = net.connect(server.path);
    idle.on('error', () => {});
    onCleanup(() => idle.destroy());
    await new Promise<void>((resolve) => idle.once('connect', resolve));
    const said = new Promise<string>((resolve) => readLines(idle, resolve, () => {}));
    // The idle connection is the server's (its connection handler ran) once a request on it could be answered;
    // a status on another connection then makes room.
    const answer = await controlRequest('cap', 'status', { directory: join(runtime, 'clusterkit'), timeoutMs: 30_000 });
    expect(answer).toMatchObject({ name: 'cap' });
    const line = JSON.parse(await said) as { id: number; ok: boolean; error: { code: string; message: string } };
    expect(line).toMatchObject({ id: 0, ok: false, error: { code: 'ERR_CONTROL_SOCKET' } });
    expect(line.error.message).toContain(kRoomMadeWords);
  });
});
