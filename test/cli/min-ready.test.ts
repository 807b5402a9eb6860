/**
 * `--min-ready` / `minReady` (H349) reach the primary: `show` says the value in force, and a
 * reload of a release that crashes 200 ms after ready fails on its first slot, `clusterkit
 * reload` exiting 1 with the reason in flag names, while the old workers serve on.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { checkConfig } from '../../src/cli/config/check-config.js';
import { remoteMessage } from '../../src/cli/flag-names.js';
import { bareDurationWarning } from '../../src/cli/bare-duration-note.js';
import { parseRunFlags } from '../../src/cli/run-flags.js';
import { mergeRunLayers } from '../../src/cli/run-settings.js';
import type { ClusterDescription } from '../../src/control/control-protocol.js';
import { RemoteError } from '../../src/errors.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { isAlive } from '../helpers/processes.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

const kSavedRuntime = process.env.XDG_RUNTIME_DIR;
afterEach(() => {
  if (kSavedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = kSavedRuntime;
  cleanUpCli();
});

const kScript = `${process.cwd()}/test/fixtures/cli-crashes-after-ready.mjs`;
const kHeldScript = `${process.cwd()}/test/fixtures/cli-crashes-after-ready-held.mjs`;

describe('--min-ready and minReady', () => {
  it.each<[string, () => { args: string[]; cwd?: string }]>([
    ['the flag', () => ({ args: ['run', kScript, '-w', '2', '--name', 'mr', '--min-ready', '3s'] })],
    ['the config key', () => ({ args: ['run'], cwd: tempProject({ 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'mr', script: kScript, workers: 2, minReady: '3s' }] }) }) })],
  ])('[H349][H360] from %s: show says it, and a release that crashes after ready fails the reload while the old workers serve on', async (_, setup) => {
    const { args, cwd } = setup();
    const runtime = runtimeDir();
    const flag = `${runtime}/bad-release`;
    const run = startCli(args, { runtime, env: { PORT: String(await freePort()), CLI_FIXTURE_FLAG: flag }, ...(cwd ? { cwd } : {}) });
    await run.waitFor(/service mr started/);
    const before = readyPids(run);
    expect(before).toHaveLength(2);

    const shown = await cli(['show', 'mr'], { runtime });
    expect(shown.stdout).toContain('\nmin ready         3s: a replacement takes over once it stayed up this long (Kubernetes: minReadySeconds)\n');
    const described = await cli(['describe', 'mr', '--json'], { runtime });
    expect((JSON.parse(described.stdout) as ClusterDescription).settings.minReadyMs).toBe(3_000);

    writeFileSync(flag, 'yes');
    const reload = await cli(['reload', 'mr'], { runtime });
    expect(reload.code).toBe(1);
    const reason =
      'worker \\d+ \\(pid \\d+\\) exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it was ready, of an uncaught Error: the new release crashes after ready(?: at \\S+)?, ' +
      `within the 3000 ms it had to stay up \\(--min-ready\\) before worker \\d+ \\(pid (?:${before.join('|')})\\) would stop; that one keeps serving`;
    // [H360] It was ready: not "failed to start".
    expect(reload.stderr).toMatch(new RegExp(`^clusterkit: reload failed: The replacement for worker slot 0 became ready but did not stay up \\(${reason}\\), so the reload stopped; 0 of 2 workers were replaced\\.\\n$`));
    await run.waitFor(new RegExp(`ERROR rolling reload failed: The replacement for worker slot 0 became ready but did not stay up \\(${reason}\\)`));
    // [H360] Its exit line says how, and that it had not taken over (no crash line follows).
    await run.waitFor(/WARN worker \d+ exited unexpectedly: it exited with code 1 (?:\d+ ms|\d+\.\d s) after it became ready, of an uncaught Error: the new release crashes after ready.*It had not taken over its slot yet/);
    expect(before.every((pid) => isAlive(pid))).toBe(true);
    expect((await cli(['stop', 'mr'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it("[H549] status --json gives a reload's error as the reload said it: the flag, not minReadyMs", async () => {
    const runtime = runtimeDir();
    const flag = `${runtime}/bad-release`;
    const run = startCli(['run', kScript, '-w', '1', '--name', 'mrj', '--min-ready', '3s'], { runtime, env: { PORT: String(await freePort()), CLI_FIXTURE_FLAG: flag } });
    await run.waitFor(/service mrj started/);
    writeFileSync(flag, 'yes');
    expect((await cli(['reload', 'mrj'], { runtime })).stderr).toContain('(--min-ready)');
    const json = JSON.parse((await cli(['status', 'mrj', '--json'], { runtime })).stdout) as { lastReload?: { error?: string } };
    // Before: `(option "minReadyMs")` (ops tester t57).
    expect(json.lastReload?.error).toContain('(--min-ready)');
    expect(json.lastReload?.error).not.toContain('minReadyMs');
    expect((await cli(['stop', 'mrj'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H365] without --min-ready, a release that crashes after ready fails clusterkit reload (exit 1) once a replacement crashed during it, saying --min-ready; slot 1 is not replaced', async () => {
    const runtime = runtimeDir();
    const flag = `${runtime}/bad-release`;
    const run = startCli(['run', kHeldScript, '-w', '2', '--name', 'rc'], { runtime, env: { PORT: String(await freePort()), CLI_FIXTURE_FLAG: flag } });
    await run.waitFor(/service rc started/);
    const before = readyPids(run);
    expect(before).toHaveLength(2);

    writeFileSync(flag, 'yes');
    const reloading = cli(['reload', 'rc'], { runtime });
    // Slot 0's replacement crashed while slot 1's waits to listen: before H365 the reload went on.
    await run.waitFor(/WARN worker \d+ crashed /);
    rmSync(flag);
    writeFileSync(`${flag}.go`, '');
    const reload = await reloading;
    expect(reload.code).toBe(1);
    const reason =
      'The replacement for worker slot 0, worker \\d+ \\(pid \\d+\\), exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it was ready, of an uncaught Error: the new release crashes after ready(?: at \\S+)?, ' +
      'after it had taken over its slot \\([^)]*\\), so the reload stopped(?: \\(the replacement for worker slot 1, starting then, was stopped\\))?; 1 of 2 workers were replaced, ' +
      'the old worker of the slot not replaced keeps serving, and worker slot 0 runs the new code and is being restarted with it, as after any crash\\. ' +
      "Set --min-ready \\(Kubernetes' minReadySeconds\\) longer than the new code takes to fail: a reload then waits for each replacement to stay up that long";
    // Slot 0's replacement took over before it crashed: its progress line comes first (H398).
    expect(reload.stderr).toMatch(new RegExp(`^slot 0: worker \\d+ ready, worker \\d+ stopped \\(1/2\\)\nclusterkit: reload failed: ${reason}`));
    expect(reload.stderr).not.toContain('minReadyMs');
    await run.waitFor(new RegExp(`ERROR rolling reload failed: ${reason}`));
    expect(run.output()).not.toContain('rolling reload complete');
    // One of the old workers (slot 1's) serves on.
    expect(before.filter((pid) => isAlive(pid))).toHaveLength(1);
    await cli(['stop', 'rc'], { runtime });
    await run.exited();
  });

  it('[H349] takes a duration or 0 (off), the flag over the file\'s key, and refuses anything else', () => {
    const project = tempProject({ 'server.js': '' });
    const file = `${project}/clusterkit.config.json`;
    const minReadyOf = (minReady: unknown) => checkConfig({ apps: [{ script: './server.js', minReady }] }, file)[0]!.layer.minReadyMs;
    expect(minReadyOf('2s')).toBe(2_000);
    expect(minReadyOf(500)).toBe(500);
    expect(minReadyOf(0)).toBe(0);
    expect(() => minReadyOf(-1)).toThrow(`"apps[0].minReady" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received -1.`);
    expect(() => minReadyOf('0.4ms')).toThrow(`"apps[0].minReady" must be at least 1ms, or 0 to turn it off. Received "0.4ms".`);
    expect(() => checkConfig({ apps: [{ script: './server.js', minReadyy: '1s' }] }, file)).toThrow('Unknown key "apps[0].minReadyy". Did you mean "minReady"?');
    expect(parseRunFlags(['x.js', '--min-ready', '0'], project).layer.minReadyMs).toBe(0);
    expect(parseRunFlags(['x.js', '--min-ready=1.5s'], project).layer.minReadyMs).toBe(1_500);
    expect(() => parseRunFlags(['x.js', '--min-ready', 'abc'], project)).toThrow('--min-ready must be a duration such as 10s, 500ms or 2m. Received "abc".');
    expect(mergeRunLayers({ script: '/s.js', minReadyMs: 3_000 }, { minReadyMs: 0 }, '/').minReadyMs).toBe(0);
    expect(mergeRunLayers({ script: '/s.js', minReadyMs: 3_000 }, {}, '/').minReadyMs).toBe(3_000);
    expect(mergeRunLayers({ script: '/s.js' }, {}, '/').minReadyMs).toBeUndefined();
  });
});

// Retest t36 N2: `minReady: 5` (Kubernetes' minReadySeconds: 5, or listenHealth()'s count of
// workers) was 5 ms without a word, and `clusterkit show` said `min ready 5ms`.
describe('a minReady written without a unit', () => {
  it.each<[string, () => { args: string[]; cwd?: string }, string]>([
    ['the flag', () => ({ args: ['run', kScript, '-w', '1', '--name', 'mr5', '--min-ready', '5'] }), '--min-ready 5 is 5 ms'],
    [
      'the config key',
      () => ({ args: ['run'], cwd: tempProject({ 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'mr5', script: kScript, workers: 1, minReady: 5 }] }) }) }),
      'minReady: 5 in clusterkit.config.json is 5 ms',
    ],
  ])('[H359][H372] from %s: the start warns on the cluster\'s log that 5 is 5 ms, and how to write seconds', async (_, setup, written) => {
    const { args, cwd } = setup();
    const runtime = runtimeDir();
    const run = startCli(args, { runtime, env: { PORT: String(await freePort()), CLI_FIXTURE_FLAG: join(runtime, 'no-such-flag') }, ...(cwd ? { cwd } : {}) });
    await run.waitFor(/service mr5 started/);
    // A JSON file's as JSON writes it (H372: `minReady: '5s'` is no JSON).
    const seconds = written.startsWith('--') ? '--min-ready 5s' : '"minReady": "5s"';
    const kept = written.startsWith('--') ? '--min-ready 5ms' : '"minReady": "5ms"';
    expect(run.stderr()).toContain(
      `[mr5] WARN ${written} (a duration without a unit is milliseconds): a reload's replacement has to stay up only 5 ms once ready before the worker it replaces stops, ` +
        `too short for a build that crashes soon after its start to show it. For 5 seconds, as Kubernetes' minReadySeconds: 5 counts them, write ${seconds}; ` +
        `to keep 5 ms, write ${kept}. It is no number of workers either (listenHealth()'s minReady is). minReadyMs=5\n`,
    );
    // Said before any worker starts, once.
    expect(run.output().indexOf('is 5 ms')).toBeLessThan(run.output().indexOf('starting 1 worker'));
    expect(run.output().split('is 5 ms')).toHaveLength(2);
    // The value is used as written: the warning is all that changed.
    expect((JSON.parse((await cli(['describe', 'mr5', '--json'], { runtime })).stdout) as ClusterDescription).settings.minReadyMs).toBe(5);
    expect((await cli(['stop', 'mr5'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H359][H372] only a bare number from 1 to 999 warns: 0 (off), a unit, 1000 or more, and a flag with a unit over the file\'s bare number are silent', () => {
    const project = tempProject({ 'server.js': '' });
    const file = `${project}/clusterkit.config.json`;
    const layerOf = (minReady: unknown) => checkConfig({ apps: [{ script: './server.js', minReady }] }, file)[0]!.layer;
    const warningOf = (minReady: unknown, flags: string[] = []) => {
      const settings = mergeRunLayers(layerOf(minReady), parseRunFlags(['x.js', ...flags], project).layer, project);
      const bare = settings.bareDurations?.find(({ key }) => key === 'minReady');
      return bare === undefined ? undefined : bareDurationWarning(bare.key, bare.ms, bare.isFromFile ? file : undefined);
    };
    expect(warningOf(5)).toMatch(/^minReady: 5 in clusterkit\.config\.json is 5 ms /);
    expect(warningOf('5')).toMatch(/^minReady: 5 in clusterkit\.config\.json is 5 ms /);
    expect(warningOf(' 999 ')).toMatch(/^minReady: 999 in clusterkit\.config\.json is 999 ms .* write "minReady": "999s"; to keep 999 ms, write "minReady": "999ms"\./);
    // A JS or TS file's in JS quotes (H372).
    for (const js of ['clusterkit.config.mjs', 'ecosystem.config.cjs', 'clusterkit.config.ts']) expect(bareDurationWarning('minReady', 5, `${project}/${js}`)).toContain(`write minReady: '5s'; to keep 5 ms, write minReady: '5ms'.`);
    for (const silent of [0, '0', 1_000, 5_000, '5s', '5ms', '5 ms', '0.5s']) expect({ silent, warning: warningOf(silent) }).toEqual({ silent, warning: undefined });
    expect(warningOf(undefined)).toBeUndefined();
    // The flag's value is the one in force: its own form decides.
    expect(warningOf(5, ['--min-ready', '5s'])).toBeUndefined();
    expect(warningOf('5s', ['--min-ready', '5'])).toMatch(/^--min-ready 5 is 5 ms .* write --min-ready 5s; to keep 5 ms, write --min-ready 5ms\./);
    expect(warningOf(5, ['--min-ready=0'])).toBeUndefined();
    expect(parseRunFlags(['x.js', '--min-ready', '250'], project).layer).toMatchObject({ minReadyMs: 250, bareDurations: ['minReady'] });
    expect(parseRunFlags(['x.js', '--min-ready', '250ms'], project).layer).toMatchObject({ minReadyMs: 250, bareDurations: undefined });
  });
});

// Retest t36 N7: `clusterkit reload` of a primary of the user's own code named `--min-ready`,
// which it has not: its own log said ("minReadyMs").
describe('a refusal of a primary of the user\'s own code', () => {
  it('[H359] clusterkit reload and scale name the options it was given (minReadyMs, maxWorkers), not clusterkit run\'s flags', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    const build = join(runtime, 'build');
    writeFileSync(build, 'good');
    const primary = testPrimary(
      { workerCount: 1, maxWorkers: 2, minReadyMs: 3_000, serviceName: 'libmr', silent: true, env: { PORT: String(await freePort()), BUILD_FILE: build } },
      'workers/build-from-file.ts',
    );
    const [old] = await primary.start();
    writeFileSync(build, 'crash-after-ready');

    const reload = await cli(['reload', 'libmr'], { runtime });
    expect(reload.code).toBe(1);
    expect(reload.stderr).toMatch(
      new RegExp(
        '^clusterkit: reload failed: The replacement for worker slot 0 became ready but did not stay up \\(worker \\d+ \\(pid \\d+\\) exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it was ready, ' +
          `of an uncaught TypeError: lazy import failed: \\./routes/report\\.js(?: at \\S+)?, within the 3000 ms it had to stay up \\("minReadyMs"\\) before worker ${old!.id} \\(pid ${old!.pid}\\) would stop; ` +
          'that one keeps serving\\), so the reload stopped; 0 of 1 workers were replaced\\.\\n$',
      ),
    );
    expect(reload.stderr).not.toContain('--min-ready');
    expect(isAlive(old!.pid!)).toBe(true);

    const scale = await cli(['scale', 'libmr', '3'], { runtime });
    expect(scale.code).toBe(2);
    expect(scale.stderr).toMatch(/^clusterkit: libmr cannot scale to 3: The "count" option must be at most 2, the "maxWorkers" option, which changes only on a restart /);
    expect(scale.stderr).not.toContain('--max-workers');
  });

  it('[H359] a primary that does not say which names it uses (an older one) is read as clusterkit run\'s, as before', () => {
    const refusal = (data?: Record<string, unknown>) =>
      new RemoteError('reload', 'the primary at /tmp/x.sock', { name: 'ReloadError', message: 'within the 3000 ms it had to stay up ("minReadyMs") before', ...(data === undefined ? {} : { data }) });
    expect(remoteMessage(refusal())).toBe('within the 3000 ms it had to stay up (--min-ready) before');
    expect(remoteMessage(refusal({ optionNames: 'api' }))).toBe('within the 3000 ms it had to stay up ("minReadyMs") before');
    expect(remoteMessage(refusal({ optionNames: 'flags' }))).toBe('within the 3000 ms it had to stay up ("minReadyMs") before');
  });
});
