import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterNameInUseError, ClusterNotRunningError, ControlSocketError, InvalidOptionError, RemoteError, ReloadError } from '../../src/index.js';
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
        // No `optionNames` (H385): a request the primary could not read names none of its options.
        { id: 0, ok: false, error: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message: 'A control request must be one JSON object per line.' } },
        { id: 2, ok: true, result: status },
        { id: 3, ok: false, error: expect.objectContaining({ message: '"scale" needs a "count" that is a positive integer. It is missing (undefined): pass it.' }) },
        { id: 4, ok: false, error: expect.objectContaining({ message: expect.stringContaining('Unknown control command "launch"; the commands are status, reload, stop, scale') }) },
        { id: 5, ok: true, result: { count: 3 } },
      ]),
    );
  });

  it('[H385] "optionNames" comes only with the refusal of a request the primary read, not with the protocol\'s own errors', async () => {
    const where = directory();
    const refusing = await startControlServer(
      'optnames',
      {
        ...handlers,
        scale: async () => {
          throw new InvalidOptionError('maxWorkers', 'at least the count asked for', 2);
        },
      },
      where,
    );
    onCleanup(() => refusing.close());
    const lines = ['not json', '{"id":2,"command":"constructor"}', '{"id":3,"command":"status","extra":1}', '{"id":4}', '{"id":5,"command":"scale","count":3}'];
    const responses = (await exchange(refusing.path, lines, lines.length)) as Array<{ id: number; error?: Record<string, unknown> }>;
    const byId = new Map(responses.map((response) => [response.id, response.error]));
    // Before: `"optionNames":"api"` (`"flags"` under clusterkit run) on every one of them.
    for (const id of [0, 2, 3, 4]) {
      expect(byId.get(id)).toMatchObject({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' });
      expect(byId.get(id)).not.toHaveProperty('optionNames');
    }
    expect(byId.get(5)).toMatchObject({ name: 'InvalidOptionError', message: expect.stringContaining('"maxWorkers"'), optionNames: 'api' });
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

  // Before (hostile t59): JSON.parse kept the last "command", and the cluster stopped.
  it('[H573] refuses a request that gives a field twice, running nothing', async () => {
    let stops = 0;
    const server = await startControlServer('twice', { ...handlers, stop: async () => (stops++, { stopped: true }) }, directory());
    servers.push(server);
    const lines = ['{"id":1,"command":"status","command":"stop"}', '{"id":2,"command":"scale","count":2,"count":3}', '{ "id" : 3 , "command":"status", "x\\"y":{"command":"a","command":"b"}, "l":["command","command"] }', '{"id":4,"command":"status"}'];
    const responses = (await exchange(server.path, lines, lines.length)) as Array<{ id: number; ok: boolean; error?: { name: string; message: string } }>;
    const byId = (id: number) => responses.find((response) => response.id === id)!;
    expect(byId(1)).toMatchObject({ ok: false, error: { name: 'InvalidArgumentError', message: 'A control request gives "command" twice; JSON would keep the last one, so nothing was run: give each field once.' } });
    expect(byId(2).error!.message).toContain('gives "count" twice');
    // Repeats inside a value, and a string in a list, are not the request's own fields: refused only for the unknown field.
    expect(byId(3).error!.message).toContain('"status" does not take "x\\"y"');
    expect(byId(4)).toMatchObject({ ok: true });
    expect(stops).toBe(0);
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
    expect(message(1).error.message).toBe('"logs" does not take "line": it takes "lines", "follow", "workerId", "slot", "output" (besides "id" and "command"). Did you mean "lines"?');
    expect(message(2).error.message).toBe('"logs" does not take "tail": it takes "lines", "follow", "workerId", "slot", "output" (besides "id" and "command").');
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

  /**
   * Connects, writes `chunks` (then shuts the writing side when `halfClose`), and collects every
   * line the server sends until it closes the connection.
   */
  function converse(path: string, chunks: string[], options: { halfClose?: boolean; trickle?: boolean } = {}): Promise<{ lines: Array<{ id: number; ok: boolean; error?: { message: string } }>; closed: true }> {
    return new Promise((resolve, reject) => {
      let received = '';
      let trickle: NodeJS.Timeout | undefined;
      const socket = net.connect(path, () => {
        for (const chunk of chunks) socket.write(chunk);
        if (options.halfClose === true) socket.end();
        // One byte again and again: traffic that resets the idle timeout, never a newline.
        if (options.trickle === true) trickle = setInterval(() => socket.write(' '), 20);
      });
      const release = onCleanup(() => {
        clearInterval(trickle);
        abandon(socket);
      });
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // The server closed while a trickled byte was on its way: what matters is what it said.
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      socket.on('close', () => {
        release();
        resolve({ lines: received.split('\n').filter(Boolean).map((line) => JSON.parse(line) as never), closed: true });
      });
    });
  }

  it('[H30] closes a connection whose request line never ends, after lineTimeoutMs from its first byte, with an error line, however much it trickles', async () => {
    const where = directory();
    const server = await startControlServer('trickle', handlers, where, { maxConnections: 4, idleTimeoutMs: 60_000, lineTimeoutMs: 300 });
    servers.push(server);
    const started = Date.now();
    const { lines } = await converse(server.path, ['{'], { trickle: true });
    expect(lines).toEqual([{ id: 0, ok: false, error: expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'A control request line must end with a newline within 300 ms of its first byte; the connection is closed.' }) }]);
    // Well before the idle timeout (which the trickle keeps resetting).
    expect(Date.now() - started).toBeLessThan(30_000);
    // Whole lines, even slow ones, are served as before.
    await expect(exchange(server.path, ['{"id":1,"command":"status"}'], 1)).resolves.toEqual([{ id: 1, ok: true, result: status }]);
  });

  it('[H31][H597] refuses an id that is not a safe integer, or 0, before doing anything, answers a last line sent without its newline, and says why it drops an over-long line', async () => {
    const where = directory();
    const scaled: number[] = [];
    const server = await startControlServer('oddities', { ...handlers, scale: async (count) => (scaled.push(count), { count }) }, where);
    servers.push(server);
    const ids = ['1e999', '1'.repeat(400), '1.5', '9007199254740993', '"7"', 'null'];
    const responses = (await exchange(server.path, ids.map((id) => `{"id":${id},"command":"scale","count":2}`), ids.length)) as Array<{ id: unknown; ok: boolean; error: { message: string } }>;
    for (const response of responses) {
      expect(response).toMatchObject({ id: 0, ok: false, error: { code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('needs an "id" that is an integer within') } });
    }
    expect(responses[0]!.error.message).toMatch(/Received Infinity\.$/);
    expect(scaled).toEqual([]);
    // [H597] 0 and -0 (written 0 in JSON) name the unreadable lines' errors: refused (hostile t60: answered as id 0).
    const zero = (await exchange(server.path, ['{"id":0,"command":"scale","count":2}', '{"id":-0,"command":"scale","count":2}'], 2)) as Array<{ id: unknown; error: { message: string } }>;
    for (const response of zero) expect(response).toMatchObject({ id: 0, ok: false, error: { code: 'ERR_INVALID_ARGUMENT', message: 'A control request\'s "id" cannot be 0: the errors about lines that could not be read carry it. Use another integer, 1 or more.' } });
    expect(scaled).toEqual([]);

    // `printf '{"id":1,"command":"status"}' | nc -U`: answered, then the server ends the connection.
    const halfClosed = await converse(server.path, ['{"id":4,"command":"status"}'], { halfClose: true });
    expect(halfClosed.lines).toEqual([{ id: 4, ok: true, result: status }]);
    const twoThenHalf = await converse(server.path, ['{"id":5,"command":"status"}\n{"id":6,"command":"scale","count":3}'], { halfClose: true });
    expect(twoThenHalf.lines).toEqual([{ id: 5, ok: true, result: status }, { id: 6, ok: true, result: { count: 3 } }]);

    const long = await converse(server.path, [`{"id":7,"command":"status","pad":"${'x'.repeat(70_000)}`]);
    expect(long.lines).toEqual([{ id: 0, ok: false, error: expect.objectContaining({ message: 'A control request line is at most 65536 characters; the connection is closed.' }) }]);
    expect(scaled).toEqual([3]);
  });

  it('[H237] refuses a whole line longer than the limit, however it arrives: a 70 000-character request line with its newline is not served', async () => {
    const where = directory();
    const scaled: number[] = [];
    const server = await startControlServer('long-line', { ...handlers, scale: async (count) => (scaled.push(count), { count }) }, where);
    servers.push(server);
    // Before: the first read held 65 536 characters, not over the limit, and the line was parsed whole.
    const long = await converse(server.path, [`{"id":8,"command":"scale","count":4,"pad":"${'x'.repeat(70_000)}"}\n`]);
    expect(long.lines).toEqual([{ id: 0, ok: false, error: expect.objectContaining({ message: 'A control request line is at most 65536 characters; the connection is closed.' }) }]);
    expect(scaled).toEqual([]);
  });

  it('[H502] a 10 MiB request line written at once gets the error line: what the client still writes is read and dropped, not cut with EPIPE', async () => {
    const where = directory();
    const server = await startControlServer('huge-line', handlers, where);
    servers.push(server);
    // Before (hostile tester t53): the server closed with the bytes unread; the client's write
    // failed (EPIPE) and it never read the line.
    const huge = await new Promise<{ received: string; errors: string[] }>((resolve) => {
      let received = '';
      const errors: string[] = [];
      const socket = net.connect(server.path, () => socket.end(`{"id":9,"command":"status","pad":"${'x'.repeat(10 * 1024 * 1024)}"}\n`));
      const release = onCleanup(() => abandon(socket));
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
      socket.on('close', () => {
        release();
        resolve({ received, errors });
      });
    });
    expect(huge).toEqual({ received: expect.stringContaining('A control request line is at most 65536 characters; the connection is closed.'), errors: [] });
    // The server goes on.
    await expect(exchange(server.path, ['{"id":1,"command":"status"}'], 1)).resolves.toEqual([{ id: 1, ok: true, result: status }]);
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
    expect((error as Error).message).toBe('No cluster named "three" is running. Running: "one", "two".');
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

  it('[H73] refuses a control directory that is a symbolic link to a directory, and says it is a link and why', () => {
    const where = directory();
    const real = join(where, '..', 'elsewhere');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, where, 'dir');
    expect(() => ensureControlDirectory(where)).toThrow(
      `The control directory ${where} is a symbolic link (to ${real}), which clusterkit refuses: whoever can change the link decides where your clusters' sockets are`,
    );
  });

  it('[H71] a request without a "command" is told it needs one, not "Unknown control command null"', async () => {
    const server = await serve('nocmd', directory());
    const responses = await exchange(server.path, ['{"id":1}', '{"__proto__":{"command":"stop"},"id":2}', '{"id":3,"command":null}', '{"id":4,"command":{"a":1}}'], 4);
    const needs = 'A control request needs a "command", one of status, reload, stop, scale';
    expect(responses).toEqual(
      expect.arrayContaining([
        { id: 1, ok: false, error: expect.objectContaining({ message: expect.stringContaining(needs) }) },
        { id: 2, ok: false, error: expect.objectContaining({ message: expect.stringContaining(needs) }) },
        { id: 3, ok: false, error: expect.objectContaining({ message: expect.stringContaining(needs) }) },
        { id: 4, ok: false, error: expect.objectContaining({ message: expect.stringContaining('Unknown control command an object; the commands are status, reload, stop, scale') }) },
      ]),
    );
  });
});
