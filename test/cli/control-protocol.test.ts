import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterNameInUseError, ClusterNotRunningError, ControlSocketError, RemoteError, ReloadError } from '../../src/index.js';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlHandlers, type ControlServer } from '../../src/control/control-server.js';
import { ensureControlDirectory, socketPathFor } from '../../src/control/runtime-dir.js';
import { onCleanup } from '../helpers/cleanup.js';
import { abandon } from '../helpers/http.js';
import { LogBuffer } from '../../src/cli/logs/log-buffer.js';

const servers: ControlServer[] = [];
const directories: string[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function directory(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ck-')), 'clusterkit');
  directories.push(join(path, '..'));
  return path;
}

const status = { name: 'proto', pid: process.pid, state: 'running', workers: [] } as unknown as ClusterStatus;
const handlers: ControlHandlers = {
  status: () => status,
  reload: () => Promise.reject(new ReloadError('The replacement for worker slot 0 failed to start.')),
  scale: async (count) => ({ count }),
  stop: async () => ({ stopped: true }),
  afterStop: () => {},
  events: (after) => ({ events: [], last: after, missed: 0 }),
};

async function serve(name: string, where: string): Promise<ControlServer> {
  const server = await startControlServer(name, handlers, where);
  servers.push(server);
  return server;
}

/** Writes raw lines on one connection and collects `count` response lines. */
function exchange(path: string, lines: string[], count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path, () => socket.write(lines.map((line) => `${line}\n`).join('')));
    onCleanup(() => abandon(socket));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
      const complete = received.split('\n').filter(Boolean);
      if (complete.length >= count) {
        socket.destroy();
        resolve(complete.map((line) => JSON.parse(line) as unknown));
      }
    });
    socket.on('error', reject);
  });
}

describe('control protocol', () => {
  it('answers each request line by id, and malformed requests with an error instead of dropping the connection', async () => {
    const where = directory();
    const server = await serve('proto', where);
    const responses = await exchange(server.path, ['not json', '{"id":2,"command":"status"}', '{"id":3,"command":"scale"}', '{"id":4,"command":"launch"}', '{"id":5,"command":"scale","count":3}'], 5);
    expect(responses).toEqual(
      expect.arrayContaining([
        { id: 0, ok: false, error: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message: 'A control request must be one JSON object per line.' } },
        { id: 2, ok: true, result: status },
        { id: 3, ok: false, error: expect.objectContaining({ message: '"scale" needs a "count" that is a positive integer. Received undefined.' }) },
        { id: 4, ok: false, error: expect.objectContaining({ message: expect.stringContaining('a "command" among status, reload, stop, scale') }) },
        { id: 5, ok: true, result: { count: 3 } },
      ]),
    );
  });

  it('answers "logs" with the buffered lines then "ok"; a primary without a log buffer says so', async () => {
    const where = directory();
    const logs = new LogBuffer();
    for (const msg of ['one', 'two', 'three']) logs.add({ time: 1, source: 'worker', workerId: 1, stream: 'stdout', msg });
    const withLogs = await startControlServer('logged', { ...handlers, logs }, where);
    servers.push(withLogs);
    expect(await exchange(withLogs.path, ['{"id":9,"command":"logs","lines":2}'], 3)).toEqual([
      { id: 9, log: { time: 1, source: 'worker', workerId: 1, stream: 'stdout', msg: 'two' } },
      { id: 9, log: { time: 1, source: 'worker', workerId: 1, stream: 'stdout', msg: 'three' } },
      { id: 9, ok: true, result: { lines: 2, follow: false } },
    ]);
    expect(await exchange(withLogs.path, ['{"id":3,"command":"logs","lines":-5}'], 1)).toEqual([
      { id: 3, ok: false, error: expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"logs" needs "lines"') }) },
    ]);
    const without = await serve('plain', where);
    expect(await exchange(without.path, ['{"id":4,"command":"logs"}'], 1)).toEqual([
      { id: 4, ok: false, error: expect.objectContaining({ code: 'ERR_INVALID_STATE', message: expect.stringContaining('This cluster keeps no log buffer') }) },
    ]);
  });

  // Before: "logs" (and every other command) took any field, so `"line": 5` silently meant 15.
  it('[H25] refuses a field a command does not take, for every command, with the same InvalidArgumentError', async () => {
    const where = directory();
    const logs = new LogBuffer();
    const server = await startControlServer('fields', { ...handlers, logs }, where);
    servers.push(server);
    const requests = [
      { id: 1, command: 'logs', line: 5 },
      { id: 2, command: 'logs', lines: 5, follow: false, tail: 1 },
      { id: 3, command: 'status', verbose: true },
      { id: 4, command: 'reload', force: true },
      { id: 5, command: 'stop', count: 1 },
      { id: 6, command: 'scale', count: 2, cont: 3 },
      { id: 7, command: 'events', after: 0, limit: 10 },
      { id: 8, command: 'status', ['__proto__']: {} },
    ];
    const lines = requests.map((request) => (request.id === 8 ? '{"id":8,"command":"status","__proto__":{}}' : JSON.stringify(request)));
    const responses = (await exchange(server.path, lines, requests.length)) as Array<{ id: number; ok: boolean; error: { name: string; code: string; message: string } }>;
    const message = (id: number) => responses.find((response) => response.id === id)!;
    for (const response of responses) expect(response).toMatchObject({ ok: false, error: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' } });
    expect(message(1).error.message).toBe('"logs" does not take "line": it takes "lines", "follow", "workerId" (besides "id" and "command"). Did you mean "lines"?');
    expect(message(2).error.message).toBe('"logs" does not take "tail": it takes "lines", "follow", "workerId" (besides "id" and "command").');
    expect(message(3).error.message).toBe('"status" does not take "verbose": it takes no field but "id" and "command".');
    expect(message(4).error.message).toContain('"reload" does not take "force"');
    expect(message(5).error.message).toContain('"stop" does not take "count"');
    expect(message(6).error.message).toBe('"scale" does not take "cont": it takes "count" (besides "id" and "command"). Did you mean "count"?');
    expect(message(7).error.message).toContain('"events" does not take "limit"');
    expect(message(8).error.message).toContain('"status" does not take "__proto__"');
    // Nothing was done: the same requests without the stray field are answered.
    expect(await exchange(server.path, ['{"id":9,"command":"logs","lines":0}', '{"id":10,"command":"scale","count":2}'], 2)).toEqual(
      expect.arrayContaining([{ id: 9, ok: true, result: { lines: 0, follow: false } }, { id: 10, ok: true, result: { count: 2 } }]),
    );
  });

  it('answers "events" with the page after the cursor, and refuses a cursor that is not a non-negative integer', async () => {
    const where = directory();
    const server = await serve('events', where);
    await expect(controlRequest('events', 'events', { directory: where, after: 7 })).resolves.toEqual({ events: [], last: 7, missed: 0 });
    const [refused] = await exchange(server.path, ['{"id":9,"command":"events","after":-1}'], 1);
    expect(refused).toMatchObject({ id: 9, ok: false, error: { code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('"events" needs an "after"') } });
  });

  it('turns a failed command into a RemoteError that keeps the remote name, code and message', async () => {
    const where = directory();
    await serve('failing', where);
    const error = await controlRequest('failing', 'reload', { directory: where }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteName: 'ReloadError', remoteCode: 'ERR_RELOAD_FAILED', remoteMessage: 'The replacement for worker slot 0 failed to start.' });
  });

  it('refuses a second server with a live name, naming the pid that holds it', async () => {
    const where = directory();
    await serve('taken', where);
    const error = await startControlServer('taken', handlers, where).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterNameInUseError);
    expect(error).toMatchObject({ code: 'ERR_CLUSTER_NAME_IN_USE', pid: process.pid });
  });

  it('reports an unknown name with the names that are running', async () => {
    const where = directory();
    await serve('one', where);
    await serve('two', where);
    const error = await controlRequest('three', 'status', { directory: where }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterNotRunningError);
    expect((error as Error).message).toBe('No cluster named "three" is running. Running: one, two.');
  });

  it('removes its socket on close, and keeps the directory private', async () => {
    const where = directory();
    mkdirSync(where, { recursive: true, mode: 0o755 });
    chmodSync(where, 0o755);
    const server = await serve('tidy', where);
    expect(statSync(where).mode & 0o777).toBe(0o700); // tightened
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    server.close();
    expect(existsSync(server.path)).toBe(false);
  });

  it('refuses a directory that is not a directory, and a socket path too long for the platform', () => {
    const where = directory();
    expect(() => socketPathFor('x'.repeat(64), join(where, 'y'.repeat(60)))).toThrow(ControlSocketError);
    const file = join(where, '..', 'plain-file');
    writeFileSync(file, '');
    expect(() => ensureControlDirectory(file)).toThrow(/exists but is not a directory/);
  });
});
