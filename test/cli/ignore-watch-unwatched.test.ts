/**
 * A config app that lists paths to ignore (`ignore_watch`, `ignoreWatch`) but is not watched:
 * the list is not used, and `clusterkit run` says so, by the key the file wrote (H570). A
 * watched app, or `--watch`, has no such line.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Spawned } from '../helpers/spawn.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(JSON.stringify({ listening: this.address().port })); });\n";

async function startedThenStopped(run: Spawned): Promise<string> {
  // Started, not starting: a SIGTERM during the start is an interrupted start (exit 1).
  await run.waitFor(/service iw\d started/);
  run.child.kill('SIGTERM');
  await expect(run.exited()).resolves.toBe(0);
  return run.stderr();
}

describe('[H570] paths to ignore with no watch', () => {
  it('[H570] are said to be unused, by the key the file wrote; not when the app is watched', async () => {
    const pm2 = tempProject({ 'srv.cjs': kServer, 'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'iw1', script: 'srv.cjs', instances: 1, ignore_watch: ['logs'] }] };\n" });
    const own = tempProject({ 'srv.cjs': kServer, 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'iw2', script: 'srv.cjs', workers: 1, ignoreWatch: ['logs'] }] }) });
    const watched = tempProject({ 'srv.cjs': kServer, 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'iw3', script: 'srv.cjs', workers: 1, watch: true, ignoreWatch: ['logs'] }] }) });
    const [pm2Err, ownErr, watchedErr] = await Promise.all([
      startedThenStopped(startCli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: pm2 })),
      startedThenStopped(startCli(['run'], { runtime: runtimeDir(), cwd: own })),
      startedThenStopped(startCli(['run'], { runtime: runtimeDir(), cwd: watched })),
    ]);
    // Before: nothing, and a user who left out "watch" by mistake had no reload on changes.
    expect(pm2Err).toContain(`clusterkit: warning: ${join(pm2, 'ecosystem.config.cjs')}: app "iw1": "ignore_watch" is not used: the app is not watched. Set watch: true in the file, or pass --watch, to reload it on changes.\n`);
    expect(ownErr).toContain(`clusterkit: warning: ${join(own, 'clusterkit.config.json')}: app "iw2": "ignoreWatch" is not used: the app is not watched.`);
    expect(watchedErr).not.toContain('is not used');
  });

  it('[H584] a watch delay with no watch, and a time format with no time or with JSON lines, are said to be unused too', async () => {
    const delayed = tempProject({ 'srv.cjs': kServer, 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'iw4', script: 'srv.cjs', workers: 1, watchDelay: '1s', time: false, timeFormat: 'HH:mm' }] }) });
    const json = tempProject({ 'srv.cjs': kServer, 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'iw5', script: 'srv.cjs', workers: 1, logFormat: 'json', timeFormat: 'HH:mm' }] }) });
    const [delayedErr, jsonErr] = await Promise.all([
      startedThenStopped(startCli(['run'], { runtime: runtimeDir(), cwd: delayed })),
      startedThenStopped(startCli(['run'], { runtime: runtimeDir(), cwd: json })),
    ]);
    // Before (retest t59): nothing.
    const file = join(delayed, 'clusterkit.config.json');
    expect(delayedErr).toContain(`clusterkit: warning: ${file}: app "iw4": "watchDelay" is not used: the app is not watched.`);
    expect(delayedErr).toContain(`clusterkit: warning: ${file}: app "iw4": "timeFormat" is not used: lines carry no time, as "time" is false. Leave it out, or set time: true.\n`);
    expect(jsonErr).toContain(`app "iw5": "timeFormat" is not used: JSON lines carry their time in their "time" field. Leave it out, or use logFormat: "line".\n`);
  });
});
