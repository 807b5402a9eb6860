/**
 * [H334] What goes into which log file of `clusterkit run`: the files follow `clusterkit logs
 * --out` / `--err` (the primary's INFO lines to the output file, its WARN and ERROR lines to the
 * error file, the log file all), the terminal unchanged; with several apps, each app's config
 * warnings are its files' first lines and the launcher's own lines go to every app's log file;
 * a failed reopen's advice fits the error (a directory at the path).
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

/** A line on each stream at start; process.send('ready') without --wait-ready (the primary WARNs once); GET /say says a line. */
const kScript = `
const http = require('node:http');
console.log('out at start');
console.error('err at start');
http.createServer((request, response) => {
  if (request.url.startsWith('/say')) console.log('said');
  response.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
`;

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const lines = (text: string) => text.split('\n').filter((line) => line !== '');
/** The primary's own lines of a cluster named `name` (not a worker's `[name:1]`). */
const primaryLines = (text: string, name: string) => lines(text).filter((line) => line.startsWith(`[${name}] `));

describe('clusterkit run: what goes into which log file', () => {
  it('[H334] -o gets the workers\' stdout and the primary\'s INFO lines, -e the workers\' stderr and its WARN lines only, as logs --out/--err sort them; -l all; config notes to -o, warnings to -e; the terminal unchanged', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.cjs': kScript,
      // pid_file: a warning; kill_timeout: a note (what it means here).
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'route', script: 'server.cjs', instances: 1, kill_timeout: 4000, pid_file: 'app.pid', out_file: 'logs/out.log', error_file: 'logs/err.log', log_file: 'logs/all.log', env: { PORT: '${port}' } }] };`,
    });
    mkdirSync(join(project, 'logs'));
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service route started/);
    await run.waitFor(/process\.send\('ready'\)/);
    await get(`http://127.0.0.1:${port}/say`);
    await run.waitFor(/\[route:1\] said/);
    const asOut = await cli(['logs', 'route', '--out', '--lines', '1000'], { runtime });
    const asErr = await cli(['logs', 'route', '--err', '--lines', '1000'], { runtime });
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);

    const [out, err, all] = (['out', 'err', 'all'] as const).map((name) => read(join(project, 'logs', `${name}.log`))) as [string, string, string];
    // The terminal is as before: the primary's lines, INFO included, on stderr.
    expect(run.stderr()).toMatch(/^\[route\] service route started/m);
    expect(run.stdout()).not.toMatch(/^\[route\] /m);
    // The output file: the workers' stdout, the primary's INFO lines, the config's note.
    expect(out).toContain('[route:1] out at start\n');
    expect(out).toContain('[route:1] said\n');
    expect(out).toMatch(/^\[route\] service route started/m);
    expect(out).toMatch(/^\[route\] shutdown complete/m);
    expect(out).toMatch(/^clusterkit: \/.*ecosystem\.config\.cjs: apps\[0\] \("route"\): PM2's "kill_timeout"/m);
    expect(out).toMatch(/^clusterkit: reading ecosystem\.config\.cjs as a config file/);
    expect(out).not.toContain('err at start');
    expect(out).not.toMatch(/WARN/);
    // The error file: the workers' stderr, the primary's WARN, the config's warning first; no INFO line.
    expect(lines(err)[0]).toMatch(/^clusterkit: warning: .*ecosystem\.config\.cjs: .*pid_file/);
    expect(err).toContain('[route:1 err] err at start\n');
    expect(err).toMatch(/^\[route\] WARN worker 1's script called process\.send\('ready'\)/m);
    expect(err).not.toMatch(/service route started|worker 1 ready|shutdown complete|starting 1 worker/);
    expect(primaryLines(err, 'route').every((line) => /^\[route\] (WARN|ERROR) /.test(line))).toBe(true);
    expect(err).not.toMatch(/kill_timeout/);
    // One rule: each primary line `logs --out` shows is in the output file, each `--err` one in the error file, and not in the other.
    expect(asOut.code).toBe(0);
    expect(asErr.code).toBe(0);
    const shownOut = primaryLines(asOut.stdout, 'route');
    const shownErr = primaryLines(asErr.stderr, 'route');
    expect(shownOut.length).toBeGreaterThan(2);
    expect(shownErr.length).toBeGreaterThan(0);
    for (const line of shownOut) {
      expect(lines(out)).toContain(line);
      expect(lines(err)).not.toContain(line);
    }
    for (const line of shownErr) {
      expect(lines(err)).toContain(line);
      expect(lines(out)).not.toContain(line);
    }
    // The log file: everything, once.
    expect(lines(all)).toHaveLength(lines(out).length + lines(err).length);
    // In the order said: the config-file notice, the warning, the kill_timeout note.
    expect(lines(all).slice(0, 3)).toEqual([lines(out)[0], lines(err)[0], lines(out)[1]]);
  });

  it('[H334] several apps: each app\'s config warning is the first line of its own files only; the launcher\'s lines go to every app\'s log file (a shared one once), reopened on the launcher\'s SIGUSR2', async () => {
    const runtime = runtimeDir();
    const [portA, portB] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': `module.exports = { apps: [
        { name: 'ra', script: 'server.cjs', instances: 1, pid_file: 'app.pid', error_file: 'logs/ra-err.log', log_file: 'logs/all.log', env: { PORT: '${portA}' } },
        { name: 'rb', script: 'server.cjs', instances: 1, out_file: 'logs/rb-out.log', log_file: 'logs/all.log', env: { PORT: '${portB}' } },
      ] };`,
    });
    const logs = join(project, 'logs');
    mkdirSync(logs);
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service ra started/);
    await run.waitFor(/service rb started/);
    // The terminal says the warning once, from the launcher.
    expect(run.stderr().match(/pid_file/g)).toHaveLength(1);
    const all = join(logs, 'all.log');
    expect(read(all).match(/^\[clusterkit\] starting 2 apps/gm)).toHaveLength(1);
    expect(read(join(logs, 'ra-err.log'))).not.toContain('starting 2 apps');
    expect(read(join(logs, 'rb-out.log'))).not.toContain('starting 2 apps');
    expect(lines(read(join(logs, 'ra-err.log')))[0]).toMatch(/^clusterkit: warning: .*ecosystem\.config\.cjs: .*pid_file/);
    expect(read(join(logs, 'rb-out.log'))).not.toContain('pid_file');

    // Rotation: the launcher's later lines go to the new all.log.
    renameSync(all, `${all}.1`);
    process.kill(run.child.pid!, 'SIGUSR2');
    await until(() => (read(all).match(/log files reopened/g) ?? []).length === 2, undefined, 'both apps reopened all.log');
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    const after = read(all);
    expect(after).toMatch(/^\[clusterkit\] app ra exited with code 0/m);
    expect(after).toMatch(/^\[clusterkit\] app rb exited with code 0/m);
    expect(after.match(/^\[clusterkit\] app ra exited/gm)).toHaveLength(1);
    expect(read(`${all}.1`)).toMatch(/^\[clusterkit\] starting 2 apps/m);
    expect(read(`${all}.1`)).not.toMatch(/app ra exited/);
    expect(read(join(logs, 'ra-err.log'))).not.toMatch(/\[clusterkit\]/);
  });

  it('[H334] a log path that became a directory: the reopen\'s WARN and show say it is a directory now (not "free the disk")', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.cjs': kScript });
    const logs = join(project, 'logs');
    mkdirSync(logs);
    const log = join(logs, 'd.log');
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'dir', '-l', 'logs/d.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service dir started/);
    renameSync(log, `${log}.1`);
    mkdirSync(log);
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/reopening the log file .* failed \(EISDIR\)/);
    expect(run.stderr()).toContain(`reopening the log file ${log} failed (EISDIR): it gets no more lines; its path is a directory now: move the directory away (or give the app another path), then send SIGUSR2`);
    expect(run.stderr()).not.toContain('free the disk');
    const shown = await cli(['show', 'dir'], { runtime });
    expect(shown.stdout).toMatch(/\(PM2: log_file; failing since \S+ \(EISDIR\): it gets no lines \(its path is a directory now: move the directory away \(or give the app another path\)\); SIGUSR2 or fixing the path reopens it\)/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
  });
});
