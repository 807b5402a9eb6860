/**
 * [H522] Which connection a full control socket (64 at most) closes to make room. Before, one
 * whose requests waited to be read or answered counted as idle (only a request being run, or
 * `logs --follow`, did not): a client writing 200 000 `status` lines while 80 idle connections
 * came in was closed "idle", `the request was not run, ask again`, and got no answer. Now a
 * connection that holds something of its client's (requests waiting, half a line, answers
 * unread) is idle only once it made no progress for a second (kStalledMs): the flood is served,
 * and a client that stopped reading or stopped mid-line still makes room (H113).
 */
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { kRoomMadeWords } from '../../src/control/busy-retry.js';
import { kStalledMs } from '../../src/control/control-connection.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlHandlers } from '../../src/control/control-server.js';
import { onCleanup } from '../helpers/cleanup.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';
import { setTimeout as delay } from 'node:timers/promises';

afterEach(() => cleanUpCli());

const idle = 'test/fixtures/cli-idle-script.mjs';
/** The control socket's cap (`ControlLimits.maxConnections`, what `clusterkit run` serves). */
const kCap = 64;
const kStatusLine = '{"id":1,"command":"status"}\n';

/** A 1-worker `clusterkit run` named `name`; its run and control socket's path. */
async function started(name: string): Promise<{ run: ReturnType<typeof startCli>; runtime: string; path: string }> {
  const runtime = runtimeDir();
  const run = startCli(['run', idle, '-w', '1', '--name', name], { runtime });
  await run.waitFor(new RegExp(`service ${name} started`));
  return { run, runtime, path: join(runtime, 'clusterkit', `${name}.sock`) };
}

async function connect(path: string): Promise<net.Socket> {
  const socket = net.connect(path);
  socket.on('error', () => {});
  onCleanup(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Counts the lines `socket` receives, and whether one said it was closed to make room; `closed` resolves when it closes. */
function lines(socket: net.Socket): { count: () => number; isRoomMade: () => boolean; first: () => string | undefined; closed: Promise<void> } {
  let count = 0;
  let tail = '';
  let first: string | undefined;
  let isRoomMade = false;
  socket.on('data', (chunk: Buffer) => {
    const text = tail + chunk.toString('latin1');
    const parts = text.split('\n');
    tail = parts.pop()!;
    count += parts.length;
    first ??= parts[0];
    if (parts.some((line) => line.includes(kRoomMadeWords))) isRoomMade = true;
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { count: () => count, isRoomMade: () => isRoomMade, first: () => first, closed };
}

describe('[H522] a full control socket makes room with idle connections, not with a busy one', () => {
  it('[H522] a client writing 200 000 status lines while 80 idle connections arrive gets every answer; idle ones make room', async () => {
    const { run, runtime, path } = await started('flood');
    const flood = await connect(path);
    const said = lines(flood);
    // Many writes: the primary reads them as its answers are read, its next bytes mostly unread.
    const batch = kStatusLine.repeat(1_000);
    for (let i = 0; i < 200; i++) flood.write(batch);
    await until(() => said.count() > 0, 30_000, 'the first answer');
    // 80 idle connections at once, while the flood is served: 81 open, 17 over the cap.
    const newcomers = await Promise.all(Array.from({ length: 80 }, () => connect(path)));
    const heard = newcomers.map(lines);
    await until(() => said.count() === 200_000 || flood.closed, 120_000, 'every answer, or the flood closed');
    // Why, when it closed (under-load run on 3ebfc508: closed after 285 answers, with no room-made line).
    if (flood.closed) throw new Error(`The flood's connection closed after ${said.count()} answers; the primary said:\n${run.output().split('\n').slice(-15).join('\n')}`);
    // Before: closed "idle" after a few hundred answers (told the room-made line, or reset).
    expect({ answers: said.count(), isRoomMade: said.isRoomMade(), isClosed: flood.closed }).toEqual({ answers: 200_000, isRoomMade: false, isClosed: false });
    // The room came from idle newcomers, each told so, the oldest first.
    await until(() => heard.filter(({ isRoomMade }) => isRoomMade()).length === 81 - kCap, 30_000, 'the idle ones told');
    await Promise.all(heard.filter(({ isRoomMade }) => isRoomMade()).map(({ closed }) => closed));
    expect(heard.map(({ isRoomMade }) => isRoomMade())).toEqual(Array.from({ length: 80 }, (_, index) => index < 81 - kCap));
    for (const socket of [flood, ...newcomers]) socket.destroy();
    expect((await cli(['stop', 'flood'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  }, 240_000);

  // Under load (the run on 5a1c032a): the flood's client, starved of CPU for a second, made no
  // progress and, the oldest idle connection, was closed after 151 answers while 80 connections
  // that had sent nothing stayed open.
  it('[H697] room comes from a connection that holds nothing before one stalled with a request of its client\'s, though that one is older', async () => {
    const status = { name: 'room', pid: 1, state: 'running', workers: [], targetWorkers: 1, script: '/x', nodeVersion: 'v0', uptimeMs: 0, startedAt: 0, protocolErrors: 0 } as unknown as ClusterStatus;
    const handlers: ControlHandlers = {
      status: () => status,
      // Never settles: a connection that asked for it is busy answering.
      reload: () => new Promise(() => {}),
      scale: async () => ({}),
      stop: async () => ({}),
      afterStop: () => {},
      events: (after) => ({ events: [], last: after, missed: 0 }),
    };
    const server = await startControlServer('room', handlers, join(runtimeDir(), 'clusterkit'), { maxConnections: 2, idleTimeoutMs: 60_000 });
    onCleanup(() => server.close());
    const stalled = await connect(server.path);
    const stalledLines = lines(stalled);
    stalled.write('{"id":1,');
    const empty = await connect(server.path);
    const emptyLines = lines(empty);
    // The time that makes the first one stalled (no progress, half a request held): the point of the test.
    await delay(kStalledMs + 200);
    const newcomer = await connect(server.path);
    await until(() => empty.closed || stalled.closed, 30_000, 'one of them closed to make room');
    expect({ emptyClosed: empty.closed, isRoomMade: emptyLines.isRoomMade(), stalledClosed: stalled.closed }).toEqual({ emptyClosed: true, isRoomMade: true, stalledClosed: false });
    // The stalled one is served still: its request, ended, is answered.
    stalled.write('"command":"status"}\n');
    await until(() => stalledLines.count() === 1 || stalled.closed, 30_000, 'the stalled request answered');
    expect({ first: JSON.parse(stalledLines.first() ?? '{}') as unknown, closed: stalled.closed }).toEqual({ first: { id: 1, ok: true, result: status }, closed: false });
    // With nothing else idle (the other one busy answering), a stalled one still makes room (H113).
    stalled.write('{"id":2,');
    newcomer.write('{"id":3,"command":"reload"}\n');
    await delay(kStalledMs + 200);
    await connect(server.path);
    await stalledLines.closed;
    expect(stalledLines.isRoomMade()).toBe(true);
    expect(newcomer.closed).toBe(false);
  });
});
