/**
 * A duration written without a unit is milliseconds, for every duration key and flag (H463):
 * `shutdownTimeout: 30` (a PM2 user's seconds) is 30 ms, said once as the cluster starts with how
 * to write seconds, as `minReady: 5` is since H359 (min-ready.test.ts). PM2's own keys are
 * milliseconds in PM2 too, and stay silent. A refusal of a bare `heartbeatTimeout` and a failed
 * start of a bare `readyTimeout` say how to write seconds. The CLI binary run directly.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { checkConfig } from '../../src/cli/config/check-config.js';
import { bareDurationWarning, kDurationKeys, type DurationKey } from '../../src/cli/bare-duration-note.js';
import { parseRunFlags } from '../../src/cli/run-flags.js';
import { mergeRunLayers } from '../../src/cli/run-settings.js';
import type { ClusterDescription } from '../../src/control/control-protocol.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kIdle = 'setInterval(() => {}, 1 << 30);\n';

/** The bare durations said at the start, as `key=ms` (`F` for the file's), of a file's app and flags. */
function saidOf(app: Record<string, unknown>, flags: string[] = [], file = 'clusterkit.config.json'): string[] {
  const project = tempProject({ 'server.js': '' });
  const [checked] = checkConfig({ apps: [{ script: './server.js', ...app }] }, `${project}/${file}`);
  const settings = mergeRunLayers(checked!.layer, parseRunFlags(['x.js', ...flags], project).layer, project);
  return (settings.bareDurations ?? []).map(({ key, ms, isFromFile }) => `${key}=${ms}${isFromFile ? ' F' : ''}`);
}

describe('a duration written without a unit', () => {
  it('[H463] every duration key of a config file, bare from 1 to 999, is said; 0, a unit, 1000 or more, and PM2\'s own keys are not', () => {
    // heartbeatTimeout is refused up to 1000 (below); watchDelay only counts with a watch.
    const keys = kDurationKeys.filter((key) => key !== 'heartbeatTimeout');
    const all = Object.fromEntries(keys.map((key) => [key, 30]));
    expect(saidOf({ ...all, watch: true, shutdownTimeout: '30' })).toEqual(keys.map((key) => `${key}=30 F`));
    expect(saidOf({ watchDelay: 30 })).toEqual([]);
    expect(saidOf({ shutdownTimeout: 999, readyTimeout: ' 5 ' })).toEqual(['shutdownTimeout=999 F', 'readyTimeout=5 F']);
    for (const silent of [0, 1_000, 5_000, '30s', '30ms', '30 ms', '0.5s']) expect({ silent, said: saidOf({ shutdownTimeout: silent === 0 ? 1_000 : silent, gradualDrain: silent }) }).toEqual({ silent, said: [] });
    // PM2 reads its own keys as milliseconds: a PM2 user's kill_timeout: 30 is PM2's 30 ms too.
    expect(saidOf({ name: 'api', kill_timeout: 500, listen_timeout: 30, min_uptime: 30, watch: true, watch_delay: 30 }, [], 'ecosystem.config.js')).toEqual([]);
    // clusterkit's own keys in a PM2 file are clusterkit's.
    expect(saidOf({ name: 'api', kill_timeout: 500, minReady: 5, restartBackoff: 30 }, [], 'ecosystem.config.js')).toEqual(['minReady=5 F', 'restartBackoff=30 F']);
  });

  it('[H463] every duration flag, bare, is said; the form of the value in force decides (a flag over the file\'s key)', () => {
    const flags = ['--shutdown-timeout', '30', '--gradual-drain', '20', '--min-ready', '5', '--ready-timeout', '900', '--restart-window', '60', '--startup-window', '2', '--watch', '--watch-delay', '40'];
    expect(saidOf({}, flags)).toEqual(['shutdownTimeout=30', 'readyTimeout=900', 'gradualDrain=20', 'minReady=5', 'restartWindow=60', 'startupWindow=2', 'watchDelay=40']);
    expect(saidOf({ shutdownTimeout: 30 }, ['--shutdown-timeout', '30s'])).toEqual([]);
    expect(saidOf({ shutdownTimeout: '30s' }, ['--shutdown-timeout=30'])).toEqual(['shutdownTimeout=30']);
    expect(saidOf({ shutdownTimeout: 30 }, ['--ready-timeout', '30'])).toEqual(['shutdownTimeout=30 F', 'readyTimeout=30']);
  });

  it('[H463] the warning names the key as written, the ms it means, and how to write seconds, in the file\'s own syntax', () => {
    expect(bareDurationWarning('shutdownTimeout', 30, '/srv/clusterkit.config.json')).toBe(
      'shutdownTimeout: 30 in clusterkit.config.json is 30 ms (a duration without a unit is milliseconds): a stopping worker is killed (SIGKILL) 30 ms after its stop begins, ' +
        'and the requests still open then are cut off at each stop, reload and scale-down. For 30 seconds, write "shutdownTimeout": "30s"; to keep 30 ms, write "shutdownTimeout": "30ms".',
    );
    expect(bareDurationWarning('restartWindow', 60, '/srv/clusterkit.config.ts')).toMatch(/^restartWindow: 60 in clusterkit\.config\.ts is 60 ms .* write restartWindow: '60s'; to keep 60 ms, write restartWindow: '60ms'\.$/);
    expect(bareDurationWarning('readyTimeout', 30, undefined)).toMatch(/^--ready-timeout 30 is 30 ms .* write --ready-timeout 30s; to keep 30 ms, write --ready-timeout 30ms\.$/);
    const noFlag: DurationKey = 'stableAfter';
    expect(bareDurationWarning(noFlag, 30, '/srv/ecosystem.config.cjs')).toMatch(/^stableAfter: 30 in ecosystem\.config\.cjs is 30 ms .* write stableAfter: '30s';/);
  });

  it('[H463] shutdownTimeout: 30 in a config file and --restart-window 60: one WARN line each, before the first fork, the values used as written', async () => {
    const runtime = runtimeDir();
    const cwd = tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'bare', script: './idle.mjs', workers: 1, shutdownTimeout: 30 }] }) });
    const run = startCli(['run', '--restart-window', '60'], { runtime, cwd, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service bare started/);
    expect(run.stderr()).toContain(
      '[bare] WARN shutdownTimeout: 30 in clusterkit.config.json is 30 ms (a duration without a unit is milliseconds): a stopping worker is killed (SIGKILL) 30 ms after its stop begins, ' +
        'and the requests still open then are cut off at each stop, reload and scale-down. For 30 seconds, write "shutdownTimeout": "30s"; to keep 30 ms, write "shutdownTimeout": "30ms". shutdownTimeoutMs=30\n',
    );
    expect(run.stderr()).toContain(
      '[bare] WARN --restart-window 60 is 60 ms (a duration without a unit is milliseconds): the restart limit counts the crashes of the last 60 ms only. For 60 seconds, write --restart-window 60s; to keep 60 ms, write --restart-window 60ms. restartWindowMs=60\n',
    );
    for (const said of ['shutdownTimeout: 30 in', '--restart-window 60 is']) {
      expect(run.output().split(said)).toHaveLength(2);
      expect(run.output().indexOf(said)).toBeLessThan(run.output().indexOf('starting 1 worker'));
    }
    expect((JSON.parse((await cli(['describe', 'bare', '--json'], { runtime })).stdout) as ClusterDescription).settings.shutdownTimeoutMs).toBe(30);
    // 30 ms is what the warning says it is: a worker on a busy machine may not stop within it, and is then killed (exit 3, or 1 for the run).
    expect([0, 3]).toContain((await cli(['stop', 'bare'], { runtime })).code);
    expect([0, 1, 3]).toContain(await run.exited());
  });

  it('[H463] a start that fails on a bare readyTimeout: 30 says it was 30 ms and how to write seconds', async () => {
    const runtime = runtimeDir();
    const cwd = tempProject({ 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'bareready', script: `${process.cwd()}/test/fixtures/cli-late-listen.mjs`, workers: 1, readyTimeout: 30, waitListen: true }] }) });
    const run = await cli(['run'], { runtime, cwd, env: { PORT: String(await freePort()), LISTEN_DELAY_MS: '60000' }, ms: 60_000 });
    expect(run.code).toBe(1);
    const hint = 'readyTimeout: 30 in clusterkit.config.json is 30 ms (a duration without a unit is milliseconds): for 30 seconds, write "readyTimeout": "30s".';
    expect(run.stderr).toMatch(/WARN readyTimeout: 30 in clusterkit\.config\.json is 30 ms /);
    expect(run.stderr).toMatch(new RegExp(`ERROR The service "bareready" could not start: .*was not ready within 30 ms \\(option --ready-timeout; readyTimeout in clusterkit\\.config\\.json\\).* ${hint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} code=ERR_SERVICE_START`));
  });

  it('[H463] a refused bare heartbeatTimeout says how to write seconds, as the flag or the file writes it', async () => {
    const runtime = runtimeDir();
    const flag = await cli(['run', 'test/fixtures/cli-idle-script.mjs', '--heartbeat-timeout', '10'], { runtime });
    expect(flag).toMatchObject({ code: 2, stderr: expect.stringContaining('Received "10". A duration without a unit is milliseconds: for 10 seconds, write --heartbeat-timeout 10s.\n') });
    for (const [file, text, written] of [
      ['clusterkit.config.json', JSON.stringify({ apps: [{ name: 'hb', script: './idle.mjs', heartbeatTimeout: 10 }] }), '"heartbeatTimeout": "10s"'],
      ['clusterkit.config.mjs', "export default { apps: [{ name: 'hb', script: './idle.mjs', heartbeatTimeout: '10' }] };\n", "heartbeatTimeout: '10s'"],
    ] as const) {
      const key = await cli(['run'], { runtime, cwd: tempProject({ 'idle.mjs': kIdle, [file]: text }) });
      expect(key.code).toBe(2);
      expect(key.stderr).toMatch(new RegExp(`"apps\\[0\\]\\.heartbeatTimeout" must be more than 1s, .*Received (10|"10")\\. A duration without a unit is milliseconds: for 10 seconds, write ${written.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\n`));
    }
    // With a unit, as before: no advice about units.
    expect((await cli(['run', 'test/fixtures/cli-idle-script.mjs', '--heartbeat-timeout', '500ms'], { runtime })).stderr).not.toContain('without a unit');
  });
});
