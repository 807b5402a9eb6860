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
});
