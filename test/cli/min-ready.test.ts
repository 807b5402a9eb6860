/**
 * `--min-ready` / `minReady` (H349) reach the primary: `show` says the value in force, and a
 * reload of a release that crashes 200 ms after ready fails on its first slot, `clusterkit
 * reload` exiting 1 with the reason in flag names, while the old workers serve on.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { checkConfig } from '../../src/cli/config/check-config.js';
import { parseRunFlags } from '../../src/cli/run-flags.js';
import { mergeRunLayers } from '../../src/cli/run-settings.js';
import type { ClusterDescription } from '../../src/control/control-protocol.js';
import { freePort } from '../helpers/ports.js';
import { isAlive } from '../helpers/processes.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kScript = `${process.cwd()}/test/fixtures/cli-crashes-after-ready.mjs`;

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

  it('[H349] takes a duration or 0 (off), the flag over the file\'s key, and refuses anything else', () => {
    const project = tempProject({ 'server.js': '' });
    const file = `${project}/clusterkit.config.json`;
    const minReadyOf = (minReady: unknown) => checkConfig({ apps: [{ script: './server.js', minReady }] }, file)[0]!.layer.minReadyMs;
    expect(minReadyOf('2s')).toBe(2_000);
    expect(minReadyOf(500)).toBe(500);
    expect(minReadyOf(0)).toBe(0);
    expect(() => minReadyOf(-1)).toThrow(`"apps[0].minReady" must be a duration such as '10s', '500ms' or '2m' (a number is milliseconds). Received -1.`);
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
