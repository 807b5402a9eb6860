/**
 * [H321][H322][H323] Log files of `clusterkit run` that are not plain, lasting, one-named files:
 * a FIFO is refused at the start and at a reopen (never a hang, never a primary that cannot
 * exit); a file deleted (or its directory removed) while running is opened again at its path,
 * and `show` says a file gets nothing; one file by two names gets each line once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';
import { kSayServer } from './say-server.js';

afterEach(() => cleanUpCli());

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

describe('clusterkit run: log files that are FIFOs, deleted, or named twice', () => {
  it('[H321] a FIFO as a log file is refused before any fork (exit 2, ERR_LOG_FILE\'s message saying to pipe the output instead), not a hang in open(); the launcher of several apps too', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kSayServer,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'fa', script: 'server.cjs', out_file: 'fifo' }, { name: 'fb', script: 'server.cjs' }] };\n",
    });
    const fifo = join(project, 'fifo');
    mkfifo(fifo);
    // Before: blocked in open() until a reader came (Ctrl-C ignored); the bound fails the test.
    const refused = await cli(['run', 'server.cjs', '-w', '1', '--name', 'fifo', '-o', 'fifo'], { runtime, cwd: project, ms: 15_000 });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `clusterkit: Cannot use ${fifo} as a log file: it is a FIFO (named pipe), not a regular file, and a log file is written without waiting for a reader. ` +
        `To feed the output to a program, pipe run's output to it instead (clusterkit run app.js 2>&1 | program), or give the path of a regular file.\n`,
    );
    const apps = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project, ms: 15_000 });
    expect(apps.code).toBe(2);
    expect(apps.stderr).toContain(`Cannot use ${fifo} as a log file: it is a FIFO (named pipe)`);
    expect(apps.stderr).not.toMatch(/starting \d+ (worker|apps)/);
  });

  it('[H321] a SIGUSR2 reopen that meets a FIFO at the path is a WARN and the file gets nothing; stop then ends the primary (no pending open keeps it)', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kSayServer });
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'refifo', '-l', 'app.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service refifo started/);
    const log = join(project, 'app.log');
    unlinkSync(log);
    mkfifo(log);
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/reopening the log file .* failed/);
    expect(run.stderr()).toContain(`reopening the log file ${log} failed (it is a FIFO (named pipe) or a socket, not a regular file): it gets no more lines; put a regular file (or nothing) at that path`);
    await get(`http://127.0.0.1:${port}/say?text=after`);
    await run.waitFor(/said after/);
    const shown = await cli(['show', 'refifo'], { runtime });
    expect(shown.stdout).toMatch(/^log files .*app\.log \(PM2: log_file; failing since \S+ \(ENOTREGULAR\): it gets no lines \(it is not a regular file: put a regular file \(or nothing\) at that path\); SIGUSR2 or fixing the path reopens it\)/m);
    // Before: `shutdown complete`, then the primary waited in open() for a reader, forever.
    const stopped = await cli(['stop', 'refifo'], { runtime });
    expect(stopped.code).toBe(0);
    expect(await run.exited()).toBe(0);
  });

  it('[H322][H445][H538] a log file deleted, then its directory removed, while running: opened again at its path with an INFO line; a WARN once while it cannot be, show says since when and why; it comes back once the directory does, from the line that found it back', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kSayServer });
    const logs = join(project, 'logs');
    mkdirSync(logs);
    const log = join(logs, 'all.log');
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'gone', '-l', 'logs/all.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service gone started/);
    let said = 0;
    const say = async () => {
      said++;
      await get(`http://127.0.0.1:${port}/say?text=n${said}`);
    };

    // The file alone deleted: the next lines (once the check came) are in a new file at its path.
    unlinkSync(log);
    await until(async () => {
      await say();
      return read(log).includes('said');
    }, undefined, 'a new all.log');
    // Read from run's stderr pipe, which may come after the file (under load it did).
    await run.waitFor(/was moved or deleted \(its path named no file\): created it again at its path/);
    expect(run.stderr()).toContain(`the log file ${log} was moved or deleted (its path named no file): created it again at its path`);

    // The directory removed: one WARN, the lines go nowhere, show says so.
    rmSync(logs, { recursive: true, force: true });
    await until(async () => {
      await say();
      return run.stderr().includes('is gone (deleted, or its directory removed)');
    }, undefined, 'the WARN');
    expect(run.stderr()).toContain(`the log file ${log} is gone (deleted, or its directory removed) and cannot be created again (ENOENT): it gets no lines until it can`);
    const shown = await cli(['show', 'gone'], { runtime });
    expect(shown.stdout).toMatch(new RegExp(`^log files +all of them to ${log.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(PM2: log_file; failing since \\d{4}-\\d\\d-\\d\\dT\\S+ \\(ENOENT\\): it gets no lines \\(its directory is gone: create it again \\(mkdir -p\\)\\); SIGUSR2 or fixing the path reopens it\\); SIGUSR2`, 'm'));
    const json = await cli(['show', 'gone', '--json'], { runtime });
    const { logFiles } = (JSON.parse(json.stdout) as { settings: { logFiles: { states: Array<{ path: string; state: string; code?: string }> } } }).settings;
    expect(logFiles.states).toEqual([{ path: log, state: 'failing', since: expect.any(String), code: 'ENOENT' }]);
    const before = said;
    await say();
    await say();

    // The directory back: the file is opened again by the next lines, said once.
    mkdirSync(logs);
    await until(async () => {
      await say();
      return read(log).includes('said');
    }, undefined, 'all.log again');
    await run.waitFor(/is written again/);
    expect(run.stderr().match(/is gone \(deleted/g)).toHaveLength(1);
    const back = await cli(['show', 'gone', '--json'], { runtime });
    expect((JSON.parse(back.stdout) as { settings: { logFiles: { states: unknown } } }).settings.logFiles.states).toEqual([{ path: log, state: 'written' }]);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    expect(read(log)).not.toContain(`said n${before + 1}\n`);
    expect(read(log)).toMatch(/^\[gone\] the log file .* is written again: created it/m);
    expect(read(log)).toMatch(/shutdown complete/);
    // The line whose look found the directory back follows the note of the lines lost: before
    // (hostile tester t56), it was counted among them.
    const written = read(log).split('\n');
    expect(written[written.findIndex((line) => / lost here: this log file could not be written/.test(line)) + 1]).toMatch(/said n\d+$/);
  });

  it('[H323] one file by two names (a symlink and its target, a hard link) gets each line once', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kSayServer });
    symlinkSync('real.log', join(project, 'link.log'));
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'twice', '-o', 'link.log', '-l', 'real.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service twice started/);
    await get(`http://127.0.0.1:${port}/say?text=one`);
    await run.waitFor(/said one/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    const real = read(join(project, 'real.log'));
    // Before: every stdout line twice (once per name).
    expect(real.match(/said one/g)).toHaveLength(1);
    expect(real.match(/out at start/g)).toHaveLength(1);
    expect(real.match(/shutdown complete/g)).toHaveLength(1);
  });
});
