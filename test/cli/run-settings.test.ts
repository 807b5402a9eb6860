import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { checkConfig } from '../../src/cli/config/check-config.js';
import { toPlainConfig } from '../../src/cli/config/plain-config.js';
import { parseEnvFlags, readEnvFile } from '../../src/cli/env-values.js';
import { mergeRunLayers } from '../../src/cli/run-settings.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { defineConfig } from '../../src/index.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-settings-'));
  directories.push(directory);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
  return directory;
}

describe('run settings', () => {
  it('lays the command line over the file: flags replace, --env and --node-arg add, defaults fill the rest', () => {
    const file = { script: '/app/server.js', name: 'api', workers: 4, nodeArgs: ['--a'], env: { A: 'file', B: 'file' }, cwd: '/app', watch: [], watchDelayMs: 500, ignoreWatch: ['logs'], scriptArgs: ['--port', '1'] } as const;
    const merged = mergeRunLayers({ ...file, nodeArgs: [...file.nodeArgs], scriptArgs: [...file.scriptArgs], watch: [], ignoreWatch: [...file.ignoreWatch] }, { workers: 2, nodeArgs: ['--b'], env: { B: 'flag' }, ignoreWatch: ['tmp'] }, '/elsewhere');
    expect(merged).toEqual({
      script: '/app/server.js',
      scriptArgs: ['--port', '1'],
      name: 'api',
      workers: 2,
      dev: undefined,
      shutdownTimeoutMs: undefined,
      gradualDrainMs: undefined,
      readyTimeoutMs: undefined,
      waitReady: false,
      waitListen: false,
      maxMemoryMb: undefined,
      restart: {},
      nodeArgs: ['--a', '--b'],
      logFormat: 'line',
      env: { A: 'file', B: 'flag' },
      cwd: '/app',
      watch: { paths: ['/app'], ignore: ['logs', 'tmp'], delayMs: 500 },
      logFiles: {},
    });
    // Log files (H314): a flag replaces the file's of the same kind only.
    expect(mergeRunLayers({ script: '/s.js', outFile: '/a/out.log', logFile: '/a/all.log' }, { outFile: '/b/out.log' }, '/').logFiles).toEqual({ outFile: '/b/out.log', logFile: '/a/all.log' });
    // The restart policy: flags replace the file's keys one by one; unset ones stay unset (the library's defaults).
    expect(mergeRunLayers({ script: '/s.js', maxRestarts: 5, startupWindowMs: 2_000 }, { startupWindowMs: 0, maxStartupFailures: 4 }, '/').restart).toEqual({ maxRestarts: 5, startupWindowMs: 0, maxStartupFailures: 4 });
    // A 0 (off) is a value: it replaces the file's, and the file's 0 stays when no flag is given.
    expect(mergeRunLayers({ script: '/s.js', gradualDrainMs: 3_000 }, { gradualDrainMs: 0 }, '/').gradualDrainMs).toBe(0);
    expect(mergeRunLayers({ script: '/s.js', gradualDrainMs: 0 }, {}, '/').gradualDrainMs).toBe(0);
    expect(mergeRunLayers({ script: '/s.js', gradualDrainMs: 0 }, { gradualDrainMs: 500 }, '/').gradualDrainMs).toBe(500);
    // --dev on the command line overrides the file's workers, and -w its dev.
    expect(mergeRunLayers({ script: '/s.js', workers: 4 }, { isDev: true }, '/')).toMatchObject({ dev: true, workers: 'auto' });
    expect(mergeRunLayers({ script: '/s.js', isDev: true }, { workers: 3 }, '/')).toMatchObject({ dev: undefined, workers: 3 });
    expect(mergeRunLayers({ script: '/s.js', isDev: false }, {}, '/')).toMatchObject({ dev: false, workers: 'auto' });
    expect(mergeRunLayers(undefined, { script: '/srv/my-api.server.js' }, '/srv')).toMatchObject({ name: 'my-api.server', cwd: '/srv', watch: undefined, scriptArgs: [] });
  });

  // Retest t89: `instances: process.env.WORKERS` with the variable unset was refused ("It is missing (undefined): pass it").
  it('[H768] reads a setting or an env variable whose value is undefined as not set, as PM2 does', () => {
    const directory = project({ 'server.js': '' });
    const file = join(directory, 'ecosystem.config.js');
    const check = (raw: unknown) => {
      const plain = toPlainConfig(raw);
      return checkConfig(plain.value, file, plain.unreadable);
    };
    const [app] = check({ apps: [{ name: undefined, script: './server.js', instances: undefined, max_memory_restart: undefined, kill_timeout: undefined, env: { A: undefined, B: 'b' } }], deploy: undefined });
    expect(app!.layer).toMatchObject({ name: 'server', workers: 1, maxMemoryMb: undefined, shutdownTimeoutMs: undefined });
    // No "instances" in a PM2 file: one process, as PM2 runs it.
    expect(app!.layer.env).toEqual({ B: 'b' });
    // Still required: a script, and apps.
    expect(() => check({ apps: [{ script: undefined }] })).toThrow(/"apps\[0\]" has no "script"/);
    expect(() => check({ apps: undefined })).toThrow(/"apps" must be a non-empty array of apps\. It is missing/);
  });

  it('[H102] takes PM2\'s wait_ready as waitReady (config) and --wait-ready (flag over file)', () => {
    const directory = project({ 'server.js': '' });
    const file = join(directory, 'clusterkit.config.json');
    expect(checkConfig({ apps: [{ script: './server.js', waitReady: true }] }, file)[0]!.layer.waitReady).toBe(true);
    expect(() => checkConfig({ apps: [{ script: './server.js', waitReady: 'yes' }] }, file)).toThrow('"apps[0].waitReady"');
    // PM2's spelling is read as its twin.
    expect(checkConfig({ apps: [{ script: './server.js', wait_ready: true }] }, file)[0]!.layer.waitReady).toBe(true);
    expect(mergeRunLayers({ script: '/s.js', waitReady: true }, {}, '/').waitReady).toBe(true);
    expect(mergeRunLayers({ script: '/s.js' }, { waitReady: true }, '/').waitReady).toBe(true);
    expect(mergeRunLayers({ script: '/s.js' }, {}, '/').waitReady).toBe(false);
  });

  it('[H455] takes healthMinReady (config) and --health-min-ready (flag), which go with the port that set them', () => {
    const directory = project({ 'server.js': '' });
    const file = join(directory, 'clusterkit.config.json');
    expect(checkConfig({ apps: [{ script: './server.js', healthPort: 9090, healthMinReady: 2 }] }, file)[0]!.layer.healthMinReady).toBe(2);
    expect(() => checkConfig({ apps: [{ script: './server.js', healthPort: 9090, healthMinReady: 0 }] }, file)).toThrow('"apps[0].healthMinReady" must be a positive integer. Received 0.');
    // The file's minReady goes with the file's port, as its host: --health-port alone needs 1, the default.
    expect(mergeRunLayers({ script: '/s.js', healthPort: 9090, healthMinReady: 2 }, {}, '/')).toMatchObject({ healthPort: 9090, healthMinReady: 2 });
    expect(mergeRunLayers({ script: '/s.js', healthPort: 9090, healthMinReady: 2 }, { healthPort: 9091 }, '/').healthMinReady).toBeUndefined();
    expect(mergeRunLayers({ script: '/s.js', healthPort: 9090, healthMinReady: 2 }, { healthPort: 9091, healthMinReady: 3 }, '/').healthMinReady).toBe(3);
  });

  it('[H460] refuses a file\'s healthHost or healthMinReady without its healthPort, which would do nothing', () => {
    const directory = project({ 'server.js': '' });
    const file = join(directory, 'clusterkit.config.json');
    expect(() => checkConfig({ apps: [{ script: './server.js', healthMinReady: 2 }] }, file)).toThrow('"apps[0].healthMinReady" only applies with "apps[0].healthPort" (the health endpoint\'s port): add it, or remove "apps[0].healthMinReady".');
    expect(() => checkConfig({ apps: [{ script: './server.js', healthHost: '127.0.0.1' }] }, file)).toThrow('"apps[0].healthHost" only applies with "apps[0].healthPort"');
    expect(checkConfig({ apps: [{ script: './server.js', healthPort: 9090, healthHost: '127.0.0.1', healthMinReady: 2 }] }, file)[0]!.layer).toMatchObject({ healthPort: 9090, healthHost: '127.0.0.1', healthMinReady: 2 });
  });

  it('[H473] names a PM2 app\'s own "__proto__" key as an unknown key; it never becomes the app\'s prototype', () => {
    const directory = project({ 'server.js': '' });
    const file = join(directory, 'clusterkit.config.json');
    // JSON.parse makes "__proto__" an own key; the PM2 translation's copy set it as the prototype: "must be an object with at least script".
    const pm2 = JSON.parse('{"apps":[{"script":"./server.js","instances":2,"__proto__":{"watch":true,"instances":64}}]}') as unknown;
    expect(() => checkConfig(pm2, file)).toThrow('Unknown key "apps[0].__proto__"');
    const environment = JSON.parse('{"apps":[{"script":"./server.js","instances":2,"env___proto__":{"A":"1"}}]}') as unknown;
    expect(checkConfig(environment, file)[0]!.environments).toEqual(JSON.parse('{"__proto__":{"A":"1"}}'));
  });

  it('gives PM2\'s node_args the value shape nodeArgs needs, and takes the durations defineConfig\'s type takes', () => {
    const directory = project({ 'server.js': '' });
    const file = join(directory, 'clusterkit.config.json');
    // PM2's node_args string is split as PM2 splits it; nodeArgs is a list.
    expect(checkConfig({ apps: [{ script: './server.js', node_args: '--max-old-space-size=256' }] }, file)[0]!.layer.nodeArgs).toEqual(['--max-old-space-size=256']);
    expect(() => checkConfig({ apps: [{ script: './server.js', nodeArgs: '--max-old-space-size=256' }] }, file)).toThrow(
      `"apps[0].nodeArgs" must be an array of strings, as in ['--max-old-space-size=256', '--import=tsx']. Received "--max-old-space-size=256".`,
    );
    // '5 s' type-checks as a ConfigDuration (`${number}s`): run takes it too.
    const typed = defineConfig({ apps: [{ script: './server.js', shutdownTimeout: '5 s' }] });
    expect(checkConfig(typed, file)[0]!.layer.shutdownTimeoutMs).toBe(5_000);
  });

  it('checks --env pairs and env files', () => {
    expect(parseEnvFlags(['A=1', 'B=x=y', 'A=2', 'EMPTY='])).toEqual({ A: '2', B: 'x=y', EMPTY: '' });
    expect(() => parseEnvFlags(['=x'])).toThrow('--env must be KEY=VALUE. Received "=…".');
    expect(() => parseEnvFlags(['A B=1'])).toThrow(UsageError);
    expect(() => parseEnvFlags([`BIG=${'x'.repeat(200_000)}`])).toThrow(/the value of BIG is 200000 characters long; the limit is 131071/);
    const directory = project({ '.env': 'A=1\nexport B="two words"\n# note\n', 'bad.env': 'GOOD=1\nnot a line\n=x\n' });
    expect(readEnvFile(join(directory, '.env'), '--env-file')).toEqual({ A: '1', B: 'two words' });
    expect(() => readEnvFile(join(directory, 'bad.env'), '--env-file')).toThrow(/bad\.env line 2: "not …" is not NAME=value: write NAME=value/);
  });

  it('types a config with defineConfig, and checks one without it the same way', () => {
    const config = defineConfig({ apps: [{ name: 'api', script: './server.js', workers: 'max', shutdownTimeout: '30s', maxMemory: '1G', env: { PORT: 3000, DEBUG: false } }] });
    const directory = project({ 'server.js': '', 'clusterkit.config.json': '' });
    const [app] = checkConfig(config, join(directory, 'clusterkit.config.json'));
    expect(app).toEqual({
      name: 'api',
      layer: expect.objectContaining({ script: join(directory, 'server.js'), cwd: directory, workers: 'max', shutdownTimeoutMs: 30_000, maxMemoryMb: 1024, env: { PORT: '3000', DEBUG: 'false' } }),
      // Each key set, as written: the primary's lines name it (H146).
      keysWritten: { name: 'name', script: 'script', workers: 'workers', shutdownTimeout: 'shutdownTimeout', maxMemory: 'maxMemory', env: 'env' },
      // What set the count, as written: the start's line names it (H203).
      workersWritten: { setting: 'workers: "max"' },
    });
    const file = join(directory, 'clusterkit.config.json');
    // gradualDrain: a duration like the others, and also 0 (off), as a number or a string.
    const drainOf = (gradualDrain: unknown) => checkConfig({ apps: [{ script: './server.js', gradualDrain }] }, file)[0]!.layer.gradualDrainMs;
    expect([drainOf('2s'), drainOf(500), drainOf(0), drainOf('0s'), drainOf(-0)]).toEqual([2_000, 500, 0, 0, 0]);
    expect(() => drainOf('x')).toThrow(`${file}: "apps[0].gradualDrain" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received "x".`);
    expect(() => drainOf(-1)).toThrow(`${file}: "apps[0].gradualDrain" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received -1.`);
    // A fraction of a millisecond: refused as a number and as a string alike, never rounded (0.4 is not 0, i.e. off).
    expect(() => drainOf(1.5)).toThrow(`${file}: "apps[0].gradualDrain" must be a whole number of milliseconds. Received 1.5.`);
    expect(() => drainOf('1.5')).toThrow(`${file}: "apps[0].gradualDrain" must be a whole number of milliseconds. Received "1.5".`);
    expect(() => drainOf(0.4)).toThrow(`${file}: "apps[0].gradualDrain" must be at least 1ms, or 0 to turn it off. Received 0.4.`);
    expect(() => drainOf('0.4ms')).toThrow(`${file}: "apps[0].gradualDrain" must be at least 1ms, or 0 to turn it off. Received "0.4ms".`);
    expect([drainOf('1.5s'), drainOf('0.5m'), drainOf('0.0')]).toEqual([1_500, 30_000, 0]);
    expect(() => drainOf(Number.NaN)).toThrow(`"apps[0].gradualDrain" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received NaN.`);
    expect(() => drainOf(Number.POSITIVE_INFINITY)).toThrow(`(a number is milliseconds). Received Infinity.`);
    expect(() => drainOf(10n)).toThrow(`(a number is milliseconds). Received 10n (a BigInt).`);
    expect(() => drainOf(2 ** 60)).toThrow(`"apps[0].gradualDrain" must be at most 2147483647 ms`);
    expect(() => drainOf(true)).toThrow(`"apps[0].gradualDrain" must be a duration such as 10s, 500ms or 2m (a number is milliseconds)`);
    expect(() => drainOf(2 ** 31)).toThrow(`"apps[0].gradualDrain" must be at most 2147483647 ms`);
    // The other durations still refuse 0.
    expect(() => checkConfig({ apps: [{ script: './server.js', shutdownTimeout: 0 }] }, file)).toThrow(`${file}: "apps[0].shutdownTimeout" must be more than 0. Received 0.`);
    expect(checkConfig({ apps: [{ script: './server.js', kill_timeout: 1 }] }, file)[0]!.layer.shutdownTimeoutMs).toBe(1);
    expect(() => checkConfig({ apps: [{ script: './server.js', env: { 'A=B': '1' } }] }, file)).toThrow(/"apps\[0\]\.env": "A=B" is not a variable name/);
    // A string args is PM2's (H127): the file is read as PM2's, the string split as PM2 splits it.
    expect(checkConfig({ apps: [{ script: './server.js', args: '--port 1' }] }, file)[0]!.layer.scriptArgs).toEqual(['--port', '1']);
    expect(() => checkConfig({ apps: [{ script: './server.js', args: 1 }] }, file)).toThrow(`"apps[0].args" must be an array of strings, as in ['--port', '3000']. Received 1.`);
    expect(() => checkConfig({ apps: [{ script: './server.js', dev: true, workers: 2 }] }, file)).toThrow('"apps[0]" has both "dev" (a single worker) and "workers"; keep one.');
    expect(() => checkConfig({ apps: [{ name: 'x' }] }, file)).toThrow('"apps[0]" has no "script"');
    expect(() => checkConfig({ apps: Array.from({ length: 101 }, () => ({ script: './server.js' })) }, file)).toThrow('"apps" has 101 apps; the limit is 100.');
  });
});
