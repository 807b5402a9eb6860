/**
 * Options a careless user passes (hostile-input findings 7 to 10 and 16): every one is refused
 * at the call with `InvalidOptionError` naming it, never thrown raw, never silently ignored,
 * never a crash loop later.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, ClusterWorker, createJsonLogger, createLineLogger, CrashLoopError, defineConfig, InvalidOptionError, startClusteredService } from '../../src/index.js';
import { onCleanup } from '../helpers/cleanup.js';
import { until } from '../helpers/wait.js';
import { fixture, kDefaultFixture, testOptions, testPrimary } from '../helpers/primary.js';

/** The error `call` throws or rejects with. */
async function failure(call: () => unknown): Promise<InvalidOptionError> {
  let error: unknown;
  try {
    await call();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(InvalidOptionError);
  return error as InvalidOptionError;
}

const boom = new Error('getter boom');
const throwing = (): never => {
  throw boom;
};

describe('option checks', () => {
  // Before (hostile t59): accepted; start() then failed with Node's "Child process can have only one IPC pipe".
  it('[H572][H582] refuses a stdio array without exactly one "ipc" entry, or with an entry Node does not take, naming it', async () => {
    // Not open yet: the checks below await no I/O, so its open cannot complete before them.
    const directory = mkdtempSync(join(tmpdir(), 'ck-stdio-'));
    const unopened = createWriteStream(join(directory, 'out.log'));
    onCleanup(async () => {
      await new Promise<void>((resolve) => unopened.destroy().once('close', () => resolve()));
      rmSync(directory, { recursive: true, force: true });
    });
    const cases: Array<[unknown, string, RegExp]> = [
      [['ipc', 'ipc', 'ipc'], 'stdio', /exactly one "ipc" entry .* \(it has 3\)/],
      [['inherit', 'pipe', 'pipe'], 'stdio', /\(it has none\)/],
      [['inherit', 'bogus', 'pipe', 'ipc'], 'stdio[1]', /Received "bogus"$/],
      [['inherit', -1, 'pipe', 'ipc'], 'stdio[1]', /Received -1$/],
      ['inherit', 'stdio', /Received "inherit"$/],
      // [H582] Retest t59: each passed, and start() failed with "spawn EBADF" or "The argument 'stdio' is invalid".
      [['inherit', 'inherit', 'inherit', 'ipc', 4_000_000], 'stdio[4]', /file descriptor 4000000 is not open in the primary/],
      [['inherit', new PassThrough(), 'inherit', 'ipc'], 'stdio[1]', /a stream must be one Node can hand to a child: an open file, a socket or a pipe/],
      [['inherit', unopened, 'inherit', 'ipc'], 'stdio[1]', /this stream is not open yet \(its fd is null\): wait for its "open" event/],
    ];
    for (const [stdio, option, message] of cases) {
      const error = await failure(() => new ClusterPrimary(testOptions('workers/ready.ts', { stdio: stdio as ['ipc'] })));
      expect({ option: error.option, message: error.message }).toEqual({ option, message: expect.stringMatching(message) });
    }
    expect(() => new ClusterPrimary(testOptions('workers/ready.ts', { stdio: ['inherit', 1, null, 'ipc', process.stderr] }))).not.toThrow();
  });

  // Before (hostile t59): { intervalMs: 1, timeoutMs: 2 } was taken; every worker was killed as blocked and every slot given up.
  it('[H572] refuses a heartbeat no healthy worker can meet: intervalMs under 10 ms, timeoutMs under 100 ms', async () => {
    const short = await failure(() => new ClusterPrimary(testOptions('workers/ready.ts', { heartbeat: { intervalMs: 1, timeoutMs: 2 } })));
    expect(short.option).toBe('heartbeat.intervalMs');
    const timeout = await failure(() => new ClusterPrimary(testOptions('workers/ready.ts', { heartbeat: { intervalMs: 10, timeoutMs: 99 } })));
    expect(timeout.message).toBe('The "heartbeat.timeoutMs" option must be at least 100 ms: a healthy worker is silent that long now and then (a garbage collection, a synchronous require), and would be killed as blocked. Received 99');
    expect(new ClusterPrimary(testOptions('workers/ready.ts', { heartbeat: { intervalMs: 10, timeoutMs: 100 } })).options.heartbeat).toEqual({ intervalMs: 10, timeoutMs: 100 });
  });

  // Before: accepted, and the workers saw A="B=x"; a NUL byte passed the constructor and
  // start() rejected with Node's raw TypeError.
  it('[H22] refuses env names with "=" or NUL, empty names, values with NUL or past the kernel limit', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    for (const env of [{ 'A=B': 'x' }, { 'A\0': 'x' }, { '': 'x' }, { A: 'x\0y' }, { A: 'x'.repeat(128 * 1024) }]) {
      const error = await failure(() => new ClusterPrimary(testOptions('workers/ready.ts', { env })));
      expect(error.option).toMatch(/^env/);
      await failure(() => primary.fork({ env }));
    }
    // What is accepted reaches the worker as given.
    const [worker] = await primary.fork({ env: { 'WITH.DOT-AND-DASH': 'a=b=c' } });
    await expect(primary.send(worker!, 'env', { key: 'WITH.DOT-AND-DASH' })).resolves.toBe('a=b=c');
  });

  // Before: a CrashLoopError after 3 attempts, saying "spawn /usr/bin/node ENOENT".
  it('[H22] checks cwd at the call, and names it when it disappears before a fork', async () => {
    expect((await failure(() => new ClusterPrimary(testOptions('workers/ready.ts', { cwd: '/nonexistent-dir' })))).message).toBe(
      'The "cwd" option must be an existing directory (it does not exist). Received "/nonexistent-dir"',
    );
    expect((await failure(() => new ClusterPrimary(testOptions('workers/ready.ts', { cwd: fixture('workers/ready.ts') })))).message).toMatch(/must be a directory \(it is a file\)/);
    const directory = mkdtempSync(join(tmpdir(), 'clusterkit-cwd-'));
    const primary = testPrimary({ cwd: directory, restart: { maxStartupFailures: 1 } });
    rmSync(directory, { recursive: true });
    const error = await primary.start().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CrashLoopError);
    expect((error as Error).message).toContain(`its working directory ${directory} (option "cwd") no longer exists`);
  });

  // Before: the raw Error, without class, code or cause.
  it('[H22] turns throwing getters and Proxy traps in options into InvalidOptionError with the path and the cause', async () => {
    // Built with defineProperty: a spread would call the getter here.
    const withGetter = <T extends object>(options: T, key: string): T => Object.defineProperty(options, key, { get: throwing, enumerable: true });
    const getter = withGetter(testOptions(), 'workerCount');
    const nested = testOptions('workers/ready.ts', { restart: withGetter({}, 'maxRestarts') });
    const proxy = new Proxy({}, { ownKeys: throwing, get: throwing });
    const cases: Array<[() => unknown, string]> = [
      [() => new ClusterPrimary(getter), 'workerCount'],
      [() => new ClusterPrimary(nested), 'restart.maxRestarts'],
      [() => new ClusterPrimary(proxy as object), 'options'],
      [() => new ClusterPrimary(testOptions('workers/ready.ts', { env: proxy as Record<string, string> })), 'env'],
      [() => new ClusterWorker(withGetter({}, 'messageTimeoutMs')), 'messageTimeoutMs'],
      [() => startClusteredService(withGetter({ workerModule: fixture('runner-http-module.ts') }, 'workers') as never), 'workers'],
    ];
    for (const [call, option] of cases) {
      const error = await failure(call);
      expect(error.option).toBe(option);
      expect(error.message).toMatch(/must be readable: reading it threw Error: getter boom/);
      expect(error.cause).toBe(boom);
    }
    const primary = testPrimary({ workerCount: 0 });
    for (const call of [() => primary.fork(proxy as object), () => primary.send(1, 'echo', 1, withGetter({}, 'timeoutMs')), () => primary.shutdown(proxy as object)]) {
      expect((await failure(call)).cause).toBe(boom);
    }
  });

  it('[H692] reads the options once: a Proxy whose get trap throws, with no keys of its own, is read as no options (never a raw Error); a workerCount getter is read once', () => {
    // Before (hostile t71): `Error code=undefined "getter boom"`, thrown by a second read of workerCount in the constructor.
    const trap = new Proxy({}, { get: throwing });
    const primary = new ClusterPrimary(trap as object);
    expect(primary.options.workerCount).toBeGreaterThanOrEqual(1);
    let reads = 0;
    const counted = Object.defineProperty(testOptions('workers/ready.ts', { logger: false }), 'workerCount', { get: () => (reads++ === 0 ? 1 : 'max'), enumerable: true });
    expect(new ClusterPrimary(counted).options.workerCount).toBe(1);
    expect(reads).toBe(1);
  });

  // Before: ignored, so `{ timeout: 5 }` waited the default 30 s.
  it('names the option a PM2 user means where spelling would not find it: name, instances, kill_timeout', () => {
    for (const [option, meant] of [
      ['name', 'serviceName'],
      ['instances', 'workerCount'],
      ['kill_timeout', 'shutdownTimeoutMs'],
      ['node_args', 'execArgv'],
      ['workerEnv', 'env'],
      ['environment', 'env'],
    ] as const) {
      expect(() => new ClusterPrimary({ [option]: 1 } as never)).toThrow(`probably "${meant}"`);
    }
  });

  it('[H300] reload() checks its requestedBy at the call, before the primary\'s state', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await expect(primary.reload({ requestedBy: 'cron' } as never)).rejects.toMatchObject({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"signal", "control", "watch", "call"') });
    await expect(primary.reload({ requestedby: 'call' } as never)).rejects.toMatchObject({ name: 'InvalidOptionError', message: expect.stringContaining('probably "requestedBy"') });
    await expect(primary.reload({ requestedBy: 'call' })).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  it('[H592] listenHealth() and listenSticky() refuse a missing port, and say what a port is for every bad one', async () => {
    const primary = testPrimary({ workerCount: 0 });
    const port = { name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', option: 'port' };
    // Hostile t60, before: listenHealth() threw a bare TypeError ("reading 'role'"); listenHealth({})
    // listened on a random port, unsaid; port -1 said "at most Number.MAX_SAFE_INTEGER".
    for (const options of [undefined, {}, { port: -1 }, { port: 'x' }, { port: 1.5 }, { port: 70_000 }]) {
      const value = (options as { port?: unknown } | undefined)?.port;
      const message = `The "port" option must be a port number from 0 to 65535 (0: any free port). ${value === undefined ? 'It is missing (undefined): pass it' : `Received ${JSON.stringify(value)}`}`;
      await expect(primary.listenHealth(options as never)).rejects.toMatchObject({ ...port, message: expect.stringContaining(message) });
      await expect(primary.listenSticky(options as never)).rejects.toMatchObject({ ...port, message: expect.stringContaining(message) });
    }
  });

  it('[H22][H716] refuses unknown keys in every per-call options object, with the nearest known one', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const calls: Array<[() => unknown, string, string]> = [
      [() => primary.send(worker!, 'echo', 1, { timeout: 5 } as object), 'timeout', 'timeoutMs'],
      [() => primary.broadcast('echo', 1, { timeoutMS: 5 } as object), 'timeoutMS', 'timeoutMs'],
      [() => primary.stopWorker(worker!, { timeout: 5 } as object), 'timeout', 'timeoutMs'],
      [() => primary.shutdown({ timeoutMs: 5, sigal: 'SIGTERM' } as object), 'sigal', 'signal'],
      [() => primary.metrics({ timeoutms: 5 } as object), 'timeoutms', 'timeoutMs'],
      [() => primary.roundRobin({ rol: 'io' } as object), 'rol', 'role'],
      [() => primary.fork({ nmae: 'x' } as object), 'nmae', 'name'],
      [() => primary.listenHealth({ port: 0, minready: 1 } as never), 'minready', 'minReady'],
      [() => primary.listenSticky({ port: 0, backlg: 1 } as never), 'backlg', 'backlog'],
    ];
    for (const [call, option, nearest] of calls) {
      const error = await failure(call);
      expect(error.option).toBe(option);
      expect(error.message).toContain(`probably "${nearest}"`);
    }
    await expect(primary.shutdown({ signal: 'TERM' as NodeJS.Signals })).rejects.toThrow(InvalidOptionError);
    // [H716] A name no system signal has (hostile t79: taken, and said as the shutdown's cause).
    await expect(primary.shutdown({ signal: 'SIGFOO' as NodeJS.Signals })).rejects.toMatchObject({ name: 'InvalidOptionError', option: 'signal', message: expect.stringContaining('a signal name this system has') });
    // Nor one no process can catch (retest t80); a lower-case or SIG-less name gets the one meant.
    for (const signal of ['SIGKILL', 'SIGSTOP']) await expect(primary.shutdown({ signal: signal as NodeJS.Signals })).rejects.toMatchObject({ option: 'signal' });
    await expect(primary.shutdown({ signal: 'sigterm' as NodeJS.Signals })).rejects.toMatchObject({ message: expect.stringContaining('probably "SIGTERM"') });
    await expect(primary.shutdown({ signal: 'int' as NodeJS.Signals })).rejects.toMatchObject({ message: expect.stringContaining('probably "SIGINT"') });
    // [H716] An argument past those a call takes is refused, as an unknown option is (hostile t79: scale(2, { x: 1 }) resolved as scale(2)).
    // A worker object in this process (no worker started): the argument check comes first.
    const lone = new ClusterWorker();
    const extra: Array<[() => unknown, string]> = [
      [() => (primary.scale as (...args: unknown[]) => Promise<unknown>)(1, { timeoutMs: 5 }), 'scale() takes one argument, count: received an object as argument 2, which it would ignore'],
      [() => (primary.fork as (...args: unknown[]) => Promise<unknown>)({}, 2), 'fork() takes one argument, options: received 2 as argument 2'],
      [() => (primary.stopWorker as (...args: unknown[]) => Promise<unknown>)(worker!, {}, 'now'), 'stopWorker() takes 2 arguments, worker, options: received '],
      [() => (primary.shutdown as (...args: unknown[]) => Promise<unknown>)({}, 5000), 'shutdown() takes one argument, options: received 5000 as argument 2'],
      [() => (primary.reload as (...args: unknown[]) => Promise<unknown>)({}, true), 'reload() takes one argument, options: received true as argument 2'],
      [() => (primary.metrics as (...args: unknown[]) => Promise<unknown>)({}, 1), 'metrics() takes one argument, options: received 1 as argument 2'],
      [() => (primary.start as (...args: unknown[]) => Promise<unknown>)({ workerCount: 2 }), 'start() takes no argument: received an object as argument 1'],
      // The whole kind (retest t80): every public call, the hot ones too.
      [() => (primary.send as (...args: unknown[]) => Promise<unknown>)(worker!, 'echo', 1, {}, 'x'), 'send() takes 4 arguments, worker, type, payload, options: received "x" as argument 5'],
      [() => (primary.broadcast as (...args: unknown[]) => Promise<unknown>)('echo', 1, {}, 'x'), 'broadcast() takes 3 arguments, type, payload, options: received "x" as argument 4'],
      [() => (primary.roundRobin as (...args: unknown[]) => unknown)({}, 'x'), 'roundRobin() takes one argument, options'],
      [() => (primary.workerById as (...args: unknown[]) => unknown)(1, 'x'), 'workerById() takes one argument, id'],
      [() => (primary.workerByName as (...args: unknown[]) => unknown)('a', 'x'), 'workerByName() takes one argument, name'],
      [() => (primary.stats as (...args: unknown[]) => unknown)('x'), 'stats() takes no argument'],
      [() => (primary.givenUpSlots as (...args: unknown[]) => unknown)('x'), 'givenUpSlots() takes no argument'],
      [() => (primary.failingSlots as (...args: unknown[]) => unknown)('x'), 'failingSlots() takes no argument'],
      [() => (primary.listenHealth as (...args: unknown[]) => Promise<unknown>)({ port: 0 }, 'x'), 'listenHealth() takes one argument, options'],
      [() => (primary.listenSticky as (...args: unknown[]) => Promise<unknown>)({ port: 0 }, 'x'), 'listenSticky() takes one argument, options'],
      [() => (lone.send as (...args: unknown[]) => Promise<unknown>)('echo', 1, {}, 'x'), 'send() takes 3 arguments, type, payload, options'],
      [() => (lone.sendTo as (...args: unknown[]) => Promise<unknown>)('a', 'echo', 1, {}, 'x'), 'sendTo() takes 4 arguments, target, type, payload, options'],
      [() => (lone.trackServer as (...args: unknown[]) => unknown)(createServer(), 'x'), 'trackServer() takes one argument, server'],
      [() => (lone.serveSticky as (...args: unknown[]) => unknown)(createServer(), 'x'), 'serveSticky() takes one argument, server'],
      [() => (lone.store.get as (...args: unknown[]) => Promise<unknown>).call(lone.store, 'k', 'x'), 'get() takes one argument, key'],
      [() => (lone.store.entries as (...args: unknown[]) => Promise<unknown>).call(lone.store, '', 'x'), 'entries() takes one argument, prefix'],
      [() => (lone.store.watch as (...args: unknown[]) => Promise<unknown>).call(lone.store, 'k', () => {}, 'x'), 'watch() takes 2 arguments, key, callback'],
      [() => (lone.store.set as (...args: unknown[]) => Promise<unknown>).call(lone.store, 'k', 1, {}, 'x'), 'set() takes 3 arguments, key, value, options'],
    ];
    for (const [call, said] of extra) {
      const error = (await Promise.resolve().then(call).then(() => undefined, (thrown: unknown) => thrown)) as Error;
      expect(error).toMatchObject({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' });
      expect(error.message).toContain(said);
    }
    // undefined is no argument: a caller forwarding an optional one.
    await expect((primary.metrics as (...args: unknown[]) => Promise<string>)({}, undefined)).resolves.toContain('clusterkit_');
    // The worker's side: send and sendTo.
    const refused = { remoteName: 'InvalidOptionError', remoteMessage: expect.stringContaining('probably "timeoutMs"') };
    await expect(primary.send(worker!, 'askPrimary', { type: 'echo', payload: 1, options: { timeout: 5 } })).rejects.toMatchObject(refused);
    await expect(primary.send(worker!, 'relay', { target: worker!.id, type: 'echo', payload: 1, options: { timeout: 5 } })).rejects.toMatchObject(refused);
    expect(primary.state).toBe('running');
  });

  // Retest t81: the calls the first pass left out ignored an extra argument without a word.
  it('[H720] refuses an extra argument to the constructors, supersedeReload(), a worker start(), the unwatch function and the primary store', async () => {
    // advanced: an explicit undefined in the arguments reaches the worker as one.
    const primary = testPrimary({ serialization: 'advanced' });
    const [worker] = await primary.start();
    class Subclassed extends ClusterWorker {}
    const store = primary.store as unknown as Record<string, (...args: unknown[]) => unknown>;
    const lone = new ClusterWorker();
    const extra: Array<[() => unknown, string]> = [
      [() => new (ClusterPrimary as new (...args: unknown[]) => unknown)({ workerScript: fixture('workers/ready.ts') }, 'x'), 'new ClusterPrimary() takes one argument, options: received "x" as argument 2'],
      [() => new (Subclassed as new (...args: unknown[]) => unknown)({}, 2), 'new Subclassed() takes one argument, options: received 2 as argument 2'],
      [() => (primary.supersedeReload as (...args: unknown[]) => unknown)({ files: [] }, 'x'), 'supersedeReload() takes one argument, change'],
      [() => (lone.start as (...args: unknown[]) => Promise<unknown>)({}), 'start() takes no argument: received an object as argument 1'],
      [() => store.get!.call(primary.store, 'k', 'x'), 'store.get() takes one argument, key'],
      [() => store.has!.call(primary.store, 'k', 'x'), 'store.has() takes one argument, key'],
      [() => store.entries!.call(primary.store, '', 'x'), 'store.entries() takes one argument, prefix'],
      [() => store.keys!.call(primary.store, 'x'), 'store.keys() takes no argument'],
      [() => store.stats!.call(primary.store, 'x'), 'store.stats() takes no argument'],
      // Past the caller's parameters (H763: the primary's own internal ones are no longer on the method).
      [() => store.set!.call(primary.store, 'k', 1, 'x'), `The primary's store.set() takes (key, value); it was given more. Write options such as { ephemeral: true } are a worker's: a key the primary writes is tied to no worker, and its storeChange source is 'primary'. Received "x" after them.`],
      [() => store.delete!.call(primary.store, 'k', 'x'), `store.delete() takes (key); it was given more`],
      [() => store.increment!.call(primary.store, 'k', 1, 'x'), `store.increment() takes (key, by); it was given more`],
      [() => store.compareAndSet!.call(primary.store, 'k', undefined, 1, 'x'), `store.compareAndSet() takes (key, expected, next); it was given more`],
    ];
    for (const [call, said] of extra) {
      const error = (await Promise.resolve().then(call).then(() => undefined, (thrown: unknown) => thrown)) as Error;
      expect(error).toMatchObject({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' });
      expect(error.message).toContain(said);
    }
    // Nothing was written by the refused writes; an undefined extra one is no argument.
    expect(primary.store.keys()).toEqual([]);
    expect(store.set!.call(primary.store, 'k', 1, undefined, undefined)).toBeUndefined();
    expect(store.get!.call(primary.store, 'k', undefined)).toBe(1);
    // A worker's store too (retest t81: its delete() and increment() refused an undefined one).
    await expect(primary.send(worker!, 'storeOp', { op: 'increment', args: ['k', 2, undefined] })).resolves.toBe(3);
    await expect(primary.send(worker!, 'storeOp', { op: 'delete', args: ['k', undefined] })).resolves.toBe(true);
    await expect(primary.send(worker!, 'storeOp', { op: 'delete', args: ['k', { force: true }] })).rejects.toMatchObject({ remoteName: 'InvalidArgumentError', remoteMessage: expect.stringContaining('delete() takes (key), and no options. Received an object after it.') });
    expect(primary.state).toBe('running');
  });

  // Hostile t84 #8: `primary.store.set('k', v, worker)` stored the caller's object uncopied and told storeChange the worker wrote it.
  it('[H763] the primary\'s store writes take no source: a WorkerHandle is refused, a worker\'s own write is still its', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const changes: unknown[] = [];
    primary.on('storeChange', (change) => changes.push(change.source));
    const store = primary.store as unknown as Record<string, (...args: unknown[]) => unknown>;
    const forged: Array<[() => unknown, string]> = [
      [() => store.set!.call(primary.store, 'k', { a: 1 }, worker), 'store.set() takes (key, value); it was given more'],
      [() => store.set!.call(primary.store, 'k', 1, worker, true), 'store.set() takes (key, value); it was given more'],
      [() => store.delete!.call(primary.store, 'k', worker), 'store.delete() takes (key); it was given more'],
      [() => store.increment!.call(primary.store, 'n', 1, worker), 'store.increment() takes (key, by); it was given more'],
      [() => store.compareAndSet!.call(primary.store, 'k', undefined, 1, worker), 'store.compareAndSet() takes (key, expected, next); it was given more'],
    ];
    for (const [call, said] of forged) expect(call).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', message: expect.stringContaining(said) }));
    expect(primary.store.keys()).toEqual([]);
    expect(changes).toEqual([]);
    // The routing's own writes: a worker's set is still told as that worker's.
    await primary.send(worker!, 'storeOp', { op: 'set', args: ['k', 1] });
    primary.store.set('p', 2);
    await until(() => changes.length === 2);
    expect(changes).toEqual([worker, 'primary']);
  });

  it('[H720] refuses an extra argument to the function watch() resolves with', async () => {
    const primary = testPrimary({ serialization: 'advanced' }, 'watch-worker.ts');
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'unwatchWith', { key: 'k', args: ['x'] })).resolves.toBe(`InvalidArgumentError: watch()'s unwatch function takes no argument: received "x" as argument 1, which it would ignore. Remove it (its docs list what the call takes).`);
    await expect(primary.send(worker!, 'unwatchWith', { key: 'k', args: [undefined] })).resolves.toBe('unwatched');
  });

  // Hostile t83 #9: `trackServer(NaN)` threw Node's "server.on is not a function"; `trackServer(null)` failed at the stop.
  it('[H734] refuses a trackServer() or serveSticky() argument that is no server, naming the call', () => {
    const lone = new ClusterWorker();
    for (const value of [null, undefined, Number.NaN, '5', {}, () => {}, { on() {} }]) {
      for (const call of ['trackServer', 'serveSticky'] as const) {
        expect(() => (lone[call] as (server: unknown) => unknown)(value)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', message: expect.stringContaining(`${call}() needs a server, as http.createServer() (or https, http2, net) returns. ${value === undefined ? 'It is missing' : 'Received '}`) }));
      }
    }
    const server = createServer();
    expect(lone.trackServer(server)).toBe(server);
  });

  // Hostile t84 #9: `trackServer(revoked)` threw Node's "Cannot perform 'get' on a proxy that has been revoked", a throwing `on` getter (or method) the user's error, `supersedeReload(revoked)` the same.
  it('[H759] refuses a server or change whose reading throws by the argument\'s name, with the cause', () => {
    const lone = new ClusterWorker();
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    };
    const servers: Array<() => unknown> = [revoked, () => ({ get on() { throw boom; }, close() {} }), () => ({ on() { throw boom; }, close() {} }), () => ({ on() {}, get close() { throw boom; } })];
    for (const server of servers) {
      for (const call of ['trackServer', 'serveSticky'] as const) {
        let thrown: unknown;
        try {
          (lone[call] as (server: unknown) => unknown)(server());
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toMatchObject({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(`${call}()'s "server" argument could not be read: reading it threw `) });
        expect((thrown as Error).message).toContain('Pass the server itself');
        expect((thrown as Error).cause).toBeInstanceOf(Error);
      }
    }
    const primary = new ClusterPrimary(testOptions(kDefaultFixture));
    for (const change of [revoked(), { get files() { throw boom; } }, { files: revoked() }]) {
      expect(() => primary.supersedeReload(change as never)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', message: expect.stringContaining(`supersedeReload()'s "change" argument could not be read: reading it threw `) }));
    }
    // A real server still passes.
    const server = createServer();
    expect(lone.serveSticky(server)).toBe(server);
  });

  // Hostile t83 #8: a revoked Proxy as an options object threw Node's "Cannot perform 'IsArray' on a proxy that has been revoked"; an env with a throwing trap or getter threw it raw.
  it('[H738] refuses a revoked Proxy as options, and an env whose reading throws, as unreadable options', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    };
    const trapping = new Proxy({}, { ownKeys: () => { throw boom; } });
    const getter = { get X() { return throwing(); } };
    const calls: Array<[() => unknown, string]> = [
      [() => new ClusterPrimary(revoked() as never), 'options'],
      [() => new ClusterPrimary({ ...testOptions(kDefaultFixture), env: revoked() as never }), 'env'],
      [() => new ClusterWorker(revoked() as never), 'options'],
      [() => primary.send(worker!, 'echo', 1, revoked() as never), 'options'],
      [() => primary.fork(revoked() as never), 'fork options'],
      [() => primary.reload({ env: revoked() as never }), 'env'],
      [() => primary.reload({ env: trapping as never }), 'env'],
      [() => primary.reload({ env: getter as never }), 'env'],
    ];
    for (const [call, option] of calls) {
      const error = await failure(call);
      expect(error.option).toBe(option);
      expect(error.message).toContain('must be readable: reading it threw');
    }
    const lone = new ClusterWorker();
    await expect(lone.store.set('k', 1, revoked() as never)).rejects.toMatchObject({ name: 'InvalidArgumentError', message: expect.stringContaining("Store write options are { ephemeral?: boolean }; reading them threw TypeError: Cannot perform 'IsArray' on a proxy that has been revoked") });
    expect(primary.state).toBe('running');
  });

  // Retest t85 (1i): the calls outside the two classes took an extra argument without a word, and the base class was named `_ClusterWorker`.
  it('[H748] refuses an extra argument to startClusteredService(), the loggers, defineConfig() and the listeners\' close()', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    const health = await primary.listenHealth({ port: 0 });
    const sticky = await primary.listenSticky({ port: 0 });
    const calls: Array<[() => unknown, string]> = [
      [() => (startClusteredService as (...args: unknown[]) => Promise<unknown>)({ workerModule: fixture('runner-empty-module.ts'), handleSignals: false }, 'x'), 'startClusteredService() takes one argument, options: received "x" as argument 2'],
      [() => (createLineLogger as (...args: unknown[]) => unknown)({}, 'x'), 'createLineLogger() takes one argument, options'],
      [() => (createJsonLogger as (...args: unknown[]) => unknown)({}, 'x'), 'createJsonLogger() takes one argument, options'],
      [() => (defineConfig as (...args: unknown[]) => unknown)({ apps: [] }, 'x'), 'defineConfig() takes one argument, config'],
      [() => (health.close as (...args: unknown[]) => Promise<void>)('x'), 'close() takes no argument: received "x" as argument 1'],
      [() => (sticky.close as (...args: unknown[]) => Promise<void>)('x'), 'close() takes no argument: received "x" as argument 1'],
      [() => new (ClusterWorker as new (...args: unknown[]) => unknown)({}, 'x'), 'new ClusterWorker() takes one argument, options'],
    ];
    for (const [call, said] of calls) {
      const error = (await Promise.resolve().then(call).then(() => undefined, (thrown: unknown) => thrown)) as Error;
      expect(error).toMatchObject({ name: 'InvalidArgumentError', message: expect.stringContaining(said) });
    }
    // Not closed by the refused calls; closed now.
    await health.close();
    await sticky.close();
  });

  // Before: 10 000-character names, names with newlines or bidi overrides were accepted.
  it('[H22] refuses worker names and roles that are too long or hold control or bidi characters', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    for (const name of ['x'.repeat(129), '', 'a\nb', 'a\u202eb', 'tab\there', 'a\u2066b', 'del\u007f']) {
      expect((await failure(() => primary.fork({ name }))).option).toBe('name');
    }
    expect((await failure(() => primary.fork({ roles: ['io', 'a,b'] }))).option).toBe('roles[1]');
    expect((await failure(() => primary.fork({ roles: ['\u001b[2J'] }))).option).toBe('roles[0]');
    const [worker] = await primary.fork({ name: 'n'.repeat(128), roles: ['io'] });
    expect(primary.workerByName('n'.repeat(128))).toBe(worker);
  });
});
