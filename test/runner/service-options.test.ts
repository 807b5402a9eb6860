import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError } from '../../src/index.js';
import { normalizeServiceOptions } from '../../src/runner/service-options.js';

const workerModule = '/srv/api/server.js';

describe('service runner options', () => {
  it('resolves the worker module, the name, development mode and the worker count', () => {
    const production = normalizeServiceOptions({ workerModule, workers: 3, dev: false });
    expect(production).toMatchObject({ modulePath: workerModule, moduleUrl: 'file:///srv/api/server.js', displayName: 'server', serviceName: undefined });
    expect(production).toMatchObject({ isDev: false, workerCount: 3, workerCountReason: 'the "workers" option', control: false, trackServers: true, ownsProcess: true });
    expect(normalizeServiceOptions({ workerModule, dev: true })).toMatchObject({ isDev: true, workerCount: 1, workerCountReason: 'development mode (dev: true)' });
    expect(() => normalizeServiceOptions({ workerModule, workers: 3, dev: true })).toThrow('The "dev" option must be left out when "workers" is a number');
    expect(normalizeServiceOptions({ workerModule: new URL('file:///srv/api/app.ts'), serviceName: 'api' })).toMatchObject({ modulePath: '/srv/api/app.ts', displayName: 'api', control: true });
    expect(normalizeServiceOptions({ workerModule: 'server.js' }).modulePath).toBe(`${process.cwd()}/server.js`);
  });

  it('[H133] takes "max" (PM2\'s word) everywhere: workerCount "max" is "auto", the runner\'s workers "max" one per CPU even in development mode', () => {
    expect(new ClusterPrimary({ workerCount: 'max', maxWorkers: 3 }).options.workerCount).toBe(new ClusterPrimary({ workerCount: 'auto', maxWorkers: 3 }).options.workerCount);
    expect(() => new ClusterPrimary({ workerCount: 'all' as never })).toThrow(`The "workerCount" option must be "auto", "max" (every CPU this process may use) or a non-negative integer`);
    const previous = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'development';
      expect(normalizeServiceOptions({ workerModule, workers: 'max', maxWorkers: 1024 })).toMatchObject({ isDev: false, workerCountReason: 'one per CPU ("max")' });
      expect(normalizeServiceOptions({ workerModule, workers: 'max', maxWorkers: 1 })).toMatchObject({ isDev: false, workerCount: 1 });
      expect(() => normalizeServiceOptions({ workerModule, workers: 'max', dev: true })).toThrow(`The "dev" option must be left out when "workers" is 'max'`);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('always honours an explicit count; NODE_ENV decides development mode only for an unset or "auto" count', () => {
    const previous = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'development';
      expect(normalizeServiceOptions({ workerModule, workers: 2 })).toMatchObject({ isDev: false, workerCount: 2 });
      expect(normalizeServiceOptions({ workerModule, workers: 'auto' })).toMatchObject({ isDev: true, workerCount: 1 });
      expect(normalizeServiceOptions({ workerModule }).workerCountReason).toBe(
        'development mode, because NODE_ENV is "development"; set NODE_ENV=production, or a worker count ("max": one per CPU), for more',
      );
      // The workers' NODE_ENV counts: the env option's, over the process's.
      expect(normalizeServiceOptions({ workerModule, env: { NODE_ENV: 'production' } })).toMatchObject({ isDev: false, workerCountReason: 'one per CPU (the default)' });
      expect(normalizeServiceOptions({ workerModule, dev: false })).toMatchObject({ isDev: false, workerCountReason: 'one per CPU (the default)' });
      process.env.NODE_ENV = 'production';
      expect(normalizeServiceOptions({ workerModule })).toMatchObject({ isDev: false, workerCountReason: 'one per CPU (the default)' });
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('passes the ClusterPrimary options through, under their own names', () => {
    const options = normalizeServiceOptions({ workerModule, shutdownTimeoutMs: 5_000, restart: false, maxMemoryMb: 512, maxStoreBytes: 1_024, handleSignals: false, onWorkerExit: () => {} });
    expect(options.primaryOptions).toEqual({ shutdownTimeoutMs: 5_000, restart: false, maxMemoryMb: 512, maxStoreBytes: 1_024, handleSignals: false });
    expect(options.ownsProcess).toBe(false);
    expect(typeof options.callbacks.onWorkerExit).toBe('function');
  });

  it.each([
    [{ workerModule: '' }, 'The "workerModule" option must be a path or a file: URL of the module each worker imports. Received ""'],
    [{ workerModule: new URL('https://example.com/x.js') }, 'The "workerModule" option must be a path or a file: URL. Received "https://example.com/x.js"'],
    [{ workerModule, workers: 0 }, 'The "workers" option must be a positive integer at most Number.MAX_SAFE_INTEGER (9007199254740991), \'auto\' (one per CPU, one in development mode) or \'max\' (one per CPU). Received 0'],
    [{ workerModule, workers: 'all' }, 'The "workers" option must be a positive integer at most Number.MAX_SAFE_INTEGER (9007199254740991), \'auto\' (one per CPU, one in development mode) or \'max\' (one per CPU). Received "all"'],
    [{ workerModule, dev: 'yes' }, 'The "dev" option must be true or false. Received "yes"'],
    [{ workerModule, serviceName: 'a/b' }, 'The "serviceName" option must be a cluster name'],
    [{ workerModule, control: true }, 'The "control" option must be false (or left out) when there is no "serviceName" to name the socket. Received true'],
    [{ workerModule, onWorkerStartup: 'hello' }, 'The "onWorkerStartup" option must be a function. Received "hello"'],
    [{ workerModule, workerCount: 2 }, 'The "workerCount" option must be renamed to "workers" (same values). Received 2'],
  ])('rejects %p with a message naming the option', (input, message) => {
    expect(() => normalizeServiceOptions(input as never)).toThrow(InvalidOptionError);
    expect(() => normalizeServiceOptions(input as never)).toThrow(message);
  });

  it('[H467] names a mistyped option against the runner\'s own options first, the likely one before the list', () => {
    // Before, the list was ClusterPrimary's alone (no "workers", "workerModule", "health"...), the likely name at its end.
    expect(() => normalizeServiceOptions({ workerModule, maxMemory: '200M' } as never)).toThrow('The "maxMemory" option must be one of the known options, probably "maxMemoryMb" (serviceName, workerModule, workers, dev, control, trackServers, health, ');
    expect(() => normalizeServiceOptions({ workerModule, wokers: 2 } as never)).toThrow('The "wokers" option must be one of the known options, probably "workers" (');
    // PM2's words get the runner's names.
    expect(() => normalizeServiceOptions({ workerModule, instances: 2 } as never)).toThrow('The "instances" option must be one of the known options, probably "workers" (');
    expect(() => normalizeServiceOptions({ workerModule, script: './server.js' } as never)).toThrow('probably "workerModule" (');
    // Every option the runner takes is still taken.
    expect(normalizeServiceOptions({ workerModule, workers: 2, health: { port: 0 }, maxMemoryMb: 200, shutdownTimeoutMs: 1_000 } as never).primaryOptions).toMatchObject({ maxMemoryMb: 200, shutdownTimeoutMs: 1_000 });
  });
});
