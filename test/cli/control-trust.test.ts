/**
 * [H5] Local clients of the control socket, both ways. The CLI trusts only a control directory
 * and sockets of its own user (a second local user could create the fallback directory under
 * the temp dir first and plant a fake primary there), shows no control character an answer
 * carries, and reaches nothing outside the directory by a name. The primary bounds what a
 * client can make it hold: answers wait for the client to read them, idle connections close,
 * and connections are capped.
 *
 * Tests run as root, so a second user is simulated: directories and sockets chowned to an
 * unused uid. (Run as another user, the owner cases are skipped; the mode cases still run.)
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlHandlers, type ControlServer } from '../../src/control/control-server.js';
import { memoryOf } from '../helpers/proc-memory.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

const kOtherUid = 4242;
const isRoot = process.getuid?.() === 0;
const itAsRoot = isRoot ? it : it.skip;
const idle = 'test/fixtures/cli-idle-script.mjs';
// What no output may contain: control characters but the newline, and the Unicode ones that reorder text.
// eslint-disable-next-line no-control-regex
const kUnsafe = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const kMiB = 1024 * 1024;

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
  cleanUpCli();
});

/** Another user's fake primary at `path`: answers every request with `result`, counts connections. */
async function fakePrimary(path: string, result: unknown): Promise<{ connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) socket.write(`${JSON.stringify({ id: (JSON.parse(line) as { id: number }).id, ok: true, result })}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  closers.push(() => server.close());
  return { connections: () => connections };
}

const kInvented = { name: 'demo\x1b]0;owned\x07', pid: 1, state: 'running\x1b[2J', workers: [], targetWorkers: 99, script: '/x', nodeVersion: 'v0', uptimeMs: 0, startedAt: 0, protocolErrors: 0 };

/** Collects `count` JSON lines from `socket`, leaving it open. */
function readAnswers(socket: net.Socket, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const lines = text.split('\n').filter(Boolean);
      if (lines.length < count) return;
      socket.off('data', onData).off('close', onClose);
      resolve(lines.slice(0, count).map((line) => JSON.parse(line) as unknown));
    };
    const onClose = () => reject(new Error(`the connection closed after ${JSON.stringify(text)}`));
    socket.on('data', onData).once('close', onClose);
  });
}

async function connect(path: string): Promise<net.Socket> {
  const socket = net.connect(path);
  closers.push(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

describe('[H5] the CLI trusts only its own control directory', () => {
  itAsRoot('[H5] refuses a fallback control directory another user created first: no command reaches their fake primary', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ck-'));
    closers.push(() => rmSync(tmp, { recursive: true, force: true }));
    const squatted = join(tmp, `clusterkit-${process.getuid!()}`);
    mkdirSync(squatted);
    chmodSync(squatted, 0o777);
    const fake = await fakePrimary(join(squatted, 'demo.sock'), kInvented);
    chownSync(join(squatted, 'demo.sock'), kOtherUid, kOtherUid);
    chownSync(squatted, kOtherUid, kOtherUid);
    // No XDG_RUNTIME_DIR: the fallback directory under the temp dir is used.
    const options = { runtime: '', env: { TMPDIR: tmp } };
    const commands = [['list'], ['status'], ['status', 'demo'], ['stop', 'demo'], ['reload', 'demo'], ['scale', 'demo', '2'], ['logs', 'demo'], ['dashboard', 'demo'], ['run', idle, '--name', 'demo']];
    const results = await Promise.all(commands.map((args) => cli(args, options)));
    results.forEach((result, index) => {
      expect({ args: commands[index], code: result.code }).toEqual({ args: commands[index], code: 1 });
      expect(result.stderr).toContain(`The control directory ${squatted} belongs to uid ${kOtherUid}, not to you (uid 0); another user may have created it to impersonate your clusters`);
      expect(result.stderr).toContain('set XDG_RUNTIME_DIR to a directory of your own');
      expect(result.stdout).toBe('');
    });
    expect(fake.connections()).toBe(0);
  });

  it('[H5] refuses a control directory of ours that others can write to; run makes it private again and removes sockets others planted', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    mkdirSync(directory);
    chmodSync(directory, 0o777);
    const fake = await fakePrimary(join(directory, 'demo.sock'), kInvented);
    const status = await cli(['status', 'demo'], { runtime });
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(
      `clusterkit: The control directory ${directory} is open to other users (mode 777), so a socket in it may not be your cluster's; clusterkit refuses to use it. ` +
        `Make it private with "chmod 700 ${directory}" (or remove it: "clusterkit run" creates it again), or set XDG_RUNTIME_DIR to a directory of your own.\n`,
    );
    expect(fake.connections()).toBe(0);
    if (!isRoot) return;
    // The planted socket belongs to someone else: the primary removes it and takes the name.
    chownSync(join(directory, 'demo.sock'), kOtherUid, kOtherUid);
    const run = startCli(['run', idle, '-w', '1', '--name', 'demo'], { runtime });
    await run.waitFor(/service demo started/);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(directory, 'demo.sock')).uid).toBe(0);
    const answer = JSON.parse((await cli(['status', 'demo', '--json'], { runtime })).stdout) as ClusterStatus;
    expect(answer.pid).toBe(run.child.pid);
    expect(fake.connections()).toBe(0);
    expect((await cli(['stop', 'demo'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H5] checks names like run --name: "status ../x/demo" no longer reaches outside the directory', async () => {
    const runtime = runtimeDir();
    mkdirSync(join(runtime, 'x'));
    const fake = await fakePrimary(join(runtime, 'x', 'demo.sock'), kInvented);
    const commands = [['status', '../x/demo'], ['reload', '../x/demo'], ['stop', '../x/demo'], ['scale', '../x/demo', '2'], ['logs', '../x/demo'], ['dashboard', '../x/demo']];
    const results = await Promise.all(commands.map((args) => cli(args, { runtime })));
    results.forEach((result, index) => {
      expect({ args: commands[index], code: result.code }).toEqual({ args: commands[index], code: 2 });
      expect(result.stderr).toMatch(/^clusterkit: "\.\.\/x\/demo" is not a cluster name: it has a "\/"; a cluster name is 1 to 64 characters: .* Try "x-demo"\.\n/);
    });
    expect(fake.connections()).toBe(0);
    expect(existsSync(join(runtime, 'clusterkit'))).toBe(false);
  });

  it('[H5] shows no control character an answer carries: status, list, JSON and error messages', async () => {
    const runtime = runtimeDir();
    const status = {
      ...kInvented,
      name: 'proto\x1b]0;owned\x07',
      script: '/srv/app.js\u202etxt.exe',
      cwd: '/srv\r\nforged line',
      nodeVersion: 'v20\x9b31m',
      workers: [{ id: 1, pid: 7, slot: 0, state: '\x1b[31mready', uptimeMs: 1, restarts: 0, messagesIn: 0, messagesOut: 0 }],
    };
    const handlers: ControlHandlers = {
      status: () => status as unknown as ClusterStatus,
      reload: () => Promise.reject(new Error('worker said \x1b]52;c;cGF5bG9hZA==\x07 hello')),
      scale: async () => ({}),
      stop: async () => ({}),
      afterStop: () => {},
      events: (after) => ({ events: [], last: after, missed: 0 }),
    };
    const server: ControlServer = await startControlServer('proto', handlers, join(runtime, 'clusterkit'));
    closers.push(() => server.close());
    const results = await Promise.all([['status', 'proto'], ['status'], ['list'], ['status', 'proto', '--json'], ['list', '--json'], ['reload', 'proto']].map((args) => cli(args, { runtime })));
    for (const result of results) {
      expect(result.stdout).not.toMatch(kUnsafe);
      expect(result.stderr).not.toMatch(kUnsafe);
    }
    expect(results[0]!.stdout).toContain('cluster proto]0;owned  pid 1  running[2J');
    expect(results[0]!.stdout).toContain('cwd /srvforged line\n');
    expect(results[5]!.stderr).toBe('clusterkit: reload failed: worker said ]52;c;cGF5bG9hZA== hello\n');
  });
});

describe('[H5] the primary bounds what a local client can make it hold', () => {
  it('[H5] answers only as fast as a client reads: 200 000 unread status requests leave the primary small, serving others; 64 connections at most, the oldest idle one making room', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    const run = startCli(['run', idle, '-w', '1', '--name', 'bound'], { runtime });
    await run.waitFor(/service bound started/);
    const pid = run.child.pid!;
    const before = memoryOf(pid).peak;
    const flood = await connect(join(directory, 'bound.sock'));
    // Many small writes: the unwritten part then shrinks as the primary reads, write by write.
    const batch = '{"id":1,"command":"status"}\n'.repeat(1_000);
    for (let i = 0; i < 200; i++) flood.write(batch);
    // The flood's unwritten part stops shrinking once the primary stops reading: the same on both
    // sides of a status round trip, three times in a row (or it all went: the primary read it all).
    let unwritten = -1;
    let unchanged = 0;
    await until(
      async () => {
        await controlRequest('bound', 'status', { directory, timeoutMs: 5_000 });
        unchanged = flood.writableLength === unwritten ? unchanged + 1 : 0;
        unwritten = flood.writableLength;
        return unchanged >= 3 || unwritten === 0;
      },
      20_000,
      'the flood stalled',
    );
    expect(unwritten).toBeGreaterThan(4 * kMiB);
    // Before: every answer was queued in the primary (380 000 took it from 76 MB to 722 MB).
    expect(memoryOf(pid).peak - before).toBeLessThan(32 * kMiB);

    // [H113] More connections than the cap: each takes the place of the oldest idle one (the
    // flood, which reads no answer, once it made no progress for a second (kStalledMs, H522),
    // and the quiet ones), so the primary holds at most 64 and a status still gets through.
    // Before, the 65th and later were refused, and so was every `stop`.
    flood.on('error', () => {}); // closed with its writes still going: EPIPE
    const opened = async () => {
      const socket = await connect(join(directory, 'bound.sock'));
      // Read, as every client does: one closed to make room is told so first (H440), and a client
      // that never reads never sees the close behind that line.
      socket.resume();
      return socket;
    };
    const extra = await Promise.all(Array.from({ length: 70 }, opened));
    // Newcomers keep coming until the stalled flood is the oldest idle one and makes room.
    await until(async () => (extra.push(await opened()), flood.closed), 30_000, 'the stalled flood closed to make room');
    const sockets = [flood, ...extra];
    await until(() => sockets.filter((socket) => socket.closed).length >= sockets.length - 64, 30_000, 'the oldest idle connections closed');
    expect(flood.closed).toBe(true);
    expect((await cli(['status', 'bound'], { runtime })).code).toBe(0);
    for (const socket of sockets) socket.destroy();
    expect((await cli(['stop', 'bound'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H5] closes an idle connection, but never one whose request is being answered', async () => {
    const runtime = runtimeDir();
    let finishReload: (value: unknown) => void = () => {};
    const handlers: ControlHandlers = {
      status: () => kInvented as unknown as ClusterStatus,
      reload: () => new Promise((resolve) => (finishReload = resolve)),
      scale: async () => ({}),
      stop: async () => ({}),
      afterStop: () => {},
      events: (after) => ({ events: [], last: after, missed: 0 }),
    };
    const server = await startControlServer('idle', handlers, join(runtime, 'clusterkit'), { maxConnections: 8, idleTimeoutMs: 300 });
    closers.push(() => server.close());
    const busy = await connect(server.path);
    busy.write('{"id":1,"command":"reload"}\n');
    // Two quiet connections opened after it are closed by the server: its idle time has passed too.
    for (let i = 0; i < 2; i++) await once(await connect(server.path), 'close');
    expect(busy.destroyed).toBe(false);
    finishReload({ workers: 1 });
    await expect(readAnswers(busy, 1)).resolves.toEqual([{ id: 1, ok: true, result: { workers: 1 } }]);
    await once(busy, 'close');
  });

  it('[H113] 70 idle connections do not lock out `clusterkit stop`: it takes the place of the oldest idle one and stops the cluster', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', idle, '-w', '1', '--name', 'held'], { runtime });
    await run.waitFor(/service held started/);
    const held = await Promise.all(Array.from({ length: 70 }, () => connect(join(runtime, 'clusterkit', 'held.sock'))));
    // A connection that began a request and never ends it is idle too.
    held[69]!.write('{"id":1,"comm');
    const stop = await cli(['stop', 'held'], { runtime });
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped held: 1 worker stopped gracefully\n' });
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H113] refuses a connection only when every open one is busy answering, and an idle one that never ends its request is closed in bounded time', async () => {
    const runtime = runtimeDir();
    const finishes: Array<(value: unknown) => void> = [];
    const handlers: ControlHandlers = {
      status: () => kInvented as unknown as ClusterStatus,
      reload: () => new Promise((resolve) => finishes.push(resolve)),
      scale: async () => ({}),
      stop: async () => ({}),
      afterStop: () => {},
      events: (after) => ({ events: [], last: after, missed: 0 }),
    };
    const server = await startControlServer('busy', handlers, join(runtime, 'clusterkit'), { maxConnections: 2, idleTimeoutMs: 60_000, lineTimeoutMs: 300 });
    closers.push(() => {
      for (const finish of finishes) finish({ workers: 0 });
      server.close();
    });
    const busy = await Promise.all([connect(server.path), connect(server.path)]);
    for (const socket of busy) socket.write('{"id":1,"command":"reload"}\n');
    await until(() => finishes.length === 2, 30_000, 'both reloads under way');
    const refused = await connect(server.path);
    await expect(readAnswers(refused, 1)).resolves.toEqual([
      { id: 0, ok: false, error: { name: 'ControlSocketError', code: 'ERR_CONTROL_SOCKET', message: expect.stringContaining('already has 2 connections open') } },
    ]);
    for (const finish of finishes.splice(0)) finish({ workers: 1 });
    for (const socket of busy) await expect(readAnswers(socket, 1)).resolves.toEqual([{ id: 1, ok: true, result: { workers: 1 } }]);
    // Now idle: a newcomer takes the oldest one's place and is answered.
    const newcomer = await connect(server.path);
    newcomer.write('{"id":2,"command":"status"}\n');
    await expect(readAnswers(newcomer, 1)).resolves.toEqual([{ id: 2, ok: true, result: kInvented }]);
    await until(() => busy[0]!.closed, 30_000, 'the oldest idle connection closed');
    // A request begun and never ended: closed after lineTimeoutMs, not held until a newcomer comes.
    busy[1]!.write('{"id":3,');
    await until(() => busy[1]!.closed, 30_000, 'the unended request closed');
  });
});
