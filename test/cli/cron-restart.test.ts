/**
 * `clusterkit run --cron-restart`, config `cronRestart`, PM2's `cron_restart` / `cron` (H377):
 * a rolling reload at each match of a cron expression, shown by `clusterkit show`.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ClusterDescription } from '../../src/control/control-protocol.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');\n";

describe('cron restart', () => {
  // Before: "PM2's "cron_restart" ("0 3 * * *") has no equivalent, and is not used: run clusterkit reload <name> from cron".
  // H392: the row named --cron-restart, a flag never typed, for the file's cron_restart.
  it("[H377][H392] an ecosystem file's cron_restart is used (no warning) and clusterkit show gives it with its next time and the key that set it, in the text and --json", async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kServer,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'eco377', script: 'server.cjs', instances: 1, cron_restart: '0 3 * * *', env: { PORT: '${await freePort()}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service eco377 started: 1 worker/);
    expect(run.output()).not.toContain('cron_restart');
    const text = await cli(['show', 'eco377'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(
      /\ncron restart      0 3 \* \* \*: a rolling reload at each match, in the primary's local time; next \d{4}-\d\d-\d\d 03:00:00 [+-]\d\d:\d\d \(cron_restart in ecosystem\.config\.cjs\)\n/,
    );
    expect(text.stdout).not.toContain('--cron-restart');
    expect(text.stdout).not.toContain('not used');
    const json = await cli(['show', 'eco377', '--json'], { runtime });
    const { settings } = JSON.parse(json.stdout) as ClusterDescription;
    expect(settings.cronRestart).toEqual({ expression: '0 3 * * *', nextRun: expect.stringMatching(/ 03:00:00 /), source: 'cron_restart in ecosystem.config.cjs' });
    expect(settings.ignoredPm2Keys).toEqual([]);
    expect((await cli(['stop', 'eco377'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H377] run --cron-restart reloads on schedule, its line naming the flag; a cluster without one shows none', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kServer });
    const run = startCli(['run', 'server.cjs', '--name', 'cron377', '-w', '1', '--cron-restart', '* * * * * *'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service cron377 started: 1 worker/);
    const [first] = readyPids(run);
    await run.waitFor(/rolling reload started: its schedule asked for it \(--cron-restart\)/);
    await run.waitFor(/rolling reload complete/);
    expect(readyPids(run).filter((pid) => pid !== first).length).toBeGreaterThanOrEqual(1);
    // Stopped while the schedule runs: the run ends.
    await cli(['stop', 'cron377'], { runtime });
    await run.exited();

    const plain = startCli(['run', 'server.cjs', '--name', 'plain377', '-w', '1'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await plain.waitFor(/service plain377 started: 1 worker/);
    expect((await cli(['show', 'plain377'], { runtime })).stdout).toContain('\ncron restart      none (PM2: cron_restart)\n');
    expect((await cli(['stop', 'plain377'], { runtime })).code).toBe(0);
    await expect(plain.exited()).resolves.toBe(0);
  });

  // Before: `(--cron-restart; PM2: cron_restart)` whatever set it.
  it("[H392] show names a clusterkit config's cronRestart by its key and file, and the flag when --cron-restart replaces it", async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kServer,
      'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'cfg392', script: 'server.cjs', workers: 1, cronRestart: '0 3 * * *' }] }),
    });
    const fromFile = startCli(['run', '--config', 'clusterkit.config.json'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await fromFile.waitFor(/service cfg392 started: 1 worker/);
    const text = await cli(['show', 'cfg392'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/\ncron restart      0 3 \* \* \*: a rolling reload at each match, in the primary's local time; next [^\n]* \(cronRestart in clusterkit\.config\.json; PM2: cron_restart\)\n/);
    expect((await cli(['stop', 'cfg392'], { runtime })).code).toBe(0);
    await expect(fromFile.exited()).resolves.toBe(0);

    const fromFlag = startCli(['run', '--config', 'clusterkit.config.json', '--cron-restart', '0 4 * * *'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await fromFlag.waitFor(/service cfg392 started: 1 worker/);
    const flagged = await cli(['show', 'cfg392'], { runtime });
    expect(flagged.stdout).toMatch(/\ncron restart      0 4 \* \* \*: a rolling reload at each match, in the primary's local time; next [^\n]* \(--cron-restart; PM2: cron_restart\)\n/);
    const json = await cli(['show', 'cfg392', '--json'], { runtime });
    expect((JSON.parse(json.stdout) as ClusterDescription).settings.cronRestart).toEqual({ expression: '0 4 * * *', nextRun: expect.stringMatching(/ 04:00:00 /) });
    expect((await cli(['stop', 'cfg392'], { runtime })).code).toBe(0);
    await expect(fromFlag.exited()).resolves.toBe(0);
  });

  // Before: nothing at all, and a full rolling reload about every 2 s for good.
  it('[H490] run --cron-restart every second warns once at the start, naming the flag, that each match is a full rolling reload, and what to give instead', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kServer });
    const run = startCli(['run', 'server.cjs', '--name', 'cron490', '-w', '1', '--cron-restart', '* * * * * *'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service cron490 started: 1 worker/);
    await run.waitFor(/rolling reload complete/);
    const warnings = run.output().split('\n').filter((line) => line.includes('ERR_CRON_SCHEDULE'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      "[cron490] WARN The schedule '* * * * * *' (--cron-restart) matches as little as 1 s apart: each match is a full rolling reload, every worker replaced one after the other, " +
        'and a match during a reload joins it, so the workers are reloaded back to back for as long as the primary runs. ' +
        "Give a schedule in minutes or hours, such as '0 3 * * *' (every day at 03:00): PM2's cron_restart serves for daily restarts.",
    );
    expect((await cli(['stop', 'cron490'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  // Before: TZ=Nowhere/Bogus started without a word, and show said "next ... +00:00".
  it('[H491] run --cron-restart under a TZ that names no zone warns that the schedule runs in UTC; under a TZ Node applies (:Europe/Paris), nothing', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kServer });
    const bogus = startCli(['run', 'server.cjs', '--name', 'tz491', '-w', '1', '--cron-restart', '0 3 * * *'], { runtime, cwd: project, env: { PORT: String(await freePort()), TZ: 'Nowhere/Bogus' } });
    await bogus.waitFor(/service tz491 started: 1 worker/);
    expect(bogus.output()).toContain(
      `[tz491] WARN TZ is "Nowhere/Bogus", no time zone the primary's local time can use: that time is UTC, and the schedule '0 3 * * *' (--cron-restart) runs in UTC. ` +
        "Set TZ to a zone name of the IANA database, written as it is there, case included (such as Europe/Paris), or unset it for the system's time zone. err=ERR_CRON_SCHEDULE",
    );
    expect((await cli(['show', 'tz491'], { runtime })).stdout).toMatch(/next \d{4}-\d\d-\d\d 03:00:00 \+00:00/);
    expect((await cli(['stop', 'tz491'], { runtime })).code).toBe(0);
    await expect(bogus.exited()).resolves.toBe(0);

    const paris = startCli(['run', 'server.cjs', '--name', 'tz491ok', '-w', '1', '--cron-restart', '0 3 * * *'], { runtime, cwd: project, env: { PORT: String(await freePort()), TZ: ':Europe/Paris' } });
    await paris.waitFor(/service tz491ok started: 1 worker/);
    expect((await cli(['show', 'tz491ok'], { runtime })).stdout).toMatch(/next \d{4}-\d\d-\d\d 03:00:00 \+0[12]:00/);
    expect(paris.output()).not.toMatch(/ERR_CRON_SCHEDULE|WARN/);
    expect((await cli(['stop', 'tz491ok'], { runtime })).code).toBe(0);
    await expect(paris.exited()).resolves.toBe(0);
  });

  // Before: "Config file not found: .../0 3 * * *" alone.
  it("[H492] run -c with a cron expression (PM2's --cron) that is no file says that -c is --config here, and gives --cron-restart with the value", async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kServer });
    for (const value of ['0 3 * * *', '*/15 * * * *', '0 0 3 * * MON-FRI', '@daily']) {
      const result = await cli(['run', 'server.cjs', '-c', value], { runtime, cwd: project });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `clusterkit: Config file not found: ${project}/${value}. "${value}" looks like a cron expression: PM2's -c is its --cron option, clusterkit's -c is --config; ` +
          `a reload on that schedule is --cron-restart "${value}" (a rolling reload at each match, with no downtime).\n`,
      );
    }
    // A file name is no cron expression.
    const missing = await cli(['run', '-c', 'none.config.ts'], { runtime, cwd: project });
    expect(missing.stderr).toContain(`clusterkit: Config file not found: ${project}/none.config.ts\n`);
  });
});
