/**
 * [H341][H343] Log files of `clusterkit run` against a hostile worker or a hostile path: a
 * symlink swapped in at the path is never followed by the automatic reopen (a WARN names it, a
 * SIGUSR2 opens it); a worker's control characters reach the files escaped, as `clusterkit
 * logs` shows them; a file that failed says how many lines it lost and finishes a cut line;
 * `show`'s "failing since" survives a SIGUSR2 that fails again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';
import { kSayServer } from './say-server.js';

afterEach(() => cleanUpCli());

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

interface Started {
  readonly run: ReturnType<typeof startCli>;
  readonly runtime: string;
  readonly project: string;
  /** Asks the worker for one `said n<k>` line; resolves once it answered. */
  readonly say: () => Promise<number>;
}

async function start(name: string, args: string[]): Promise<Started> {
  const runtime = runtimeDir();
  const project = tempProject({ 'server.cjs': kSayServer });
  mkdirSync(join(project, 'logs'));
  const port = await freePort();
  const run = startCli(['run', 'server.cjs', '-w', '1', '--name', name, ...args], { runtime, cwd: project, env: { PORT: String(port) } });
  await run.waitFor(new RegExp(`service ${name} started`));
  let said = 0;
  const say = async () => {
    said++;
    await get(`http://127.0.0.1:${port}/say?text=n${said}`);
    return said;
  };
  return { run, runtime, project, say };
}

describe('clusterkit run: log files against a hostile worker or path', () => {
  it('[H341] a symlink swapped in at the path is not followed by the once-a-second reopen: a WARN names where it points, the target gets nothing, show says failing (EREPLACED); only a SIGUSR2 opens what is there', async () => {
    const { run, runtime, project, say } = await start('swap', ['-o', 'out.log']);
    const out = join(project, 'out.log');
    const victim = join(project, 'victim.txt');
    writeFileSync(victim, 'root:x:0:0:victim\n');
    unlinkSync(out);
    symlinkSync('victim.txt', out);
    await until(async () => {
      await say();
      return run.stderr().includes(`the log file ${out} was replaced`);
    }, undefined, 'the WARN of the replaced path');
    expect(run.stderr()).toContain(`the log file ${out} was replaced: its path is now a symbolic link to "victim.txt", which clusterkit did not create, so it does not open it by itself`);
    expect(run.stderr()).toContain(`send SIGUSR2 to the primary (pid ${run.child.pid}) to reopen it`);
    await say();
    await say();
    expect(readFileSync(victim, 'utf8')).toBe('root:x:0:0:victim\n');
    const json = await cli(['show', 'swap', '--json'], { runtime });
    const { logFiles } = (JSON.parse(json.stdout) as { settings: { logFiles: { states: unknown } } }).settings;
    expect(logFiles.states).toEqual([{ path: out, state: 'failing', since: expect.any(String), code: 'EREPLACED' }]);
    const shown = await cli(['show', 'swap'], { runtime });
    expect(shown.stdout).toContain('(EREPLACED): it gets no lines (something else was put at its path (a symlink, another file), which is not opened by itself');

    // Another regular file there instead: still held (no second WARN, nothing written to it).
    unlinkSync(out);
    writeFileSync(out, 'not ours\n');
    await say();
    await say();
    expect(read(out)).toBe('not ours\n');
    expect(run.stderr().match(/ was replaced: /g)).toHaveLength(1);

    // The user's SIGUSR2 opens what is there (as logrotate's create leaves it).
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/log files reopened/);
    const n = await say();
    await until(() => read(out).includes(`said n${n}\n`), undefined, 'the line in the file put there');
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('root:x:0:0:victim\n');
  });

  it('[H341] the line that finds the file deleted goes to the new file, before the INFO that says it was created again', async () => {
    const { run, project, say } = await start('first', ['-o', 'out.log']);
    const out = join(project, 'out.log');
    unlinkSync(out);
    await until(async () => {
      await say();
      return read(out) !== '';
    }, undefined, 'a new out.log');
    await run.waitFor(/created it again at its path/);
    expect(run.stderr()).toContain(`the log file ${out} was moved or deleted (its path named no file): created it again at its path`);
    expect(read(out).split('\n')[0]).toMatch(/^\[first:1\] said n\d+$/);
    expect(statSync(out).mode & 0o777).toBe(0o640 & ~process.umask());
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
  });

  it('[H343] a worker\'s CR, escape sequences and NUL reach the log files escaped as `clusterkit logs` shows them; the pipe that run writes to gets them as before', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kSayServer });
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'api', '-o', 'out.log', '-e', 'err.log', '-l', 'all.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service api started/);
    await get(`http://127.0.0.1:${port}/forge`);
    await run.waitFor(/ end\n/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    const [outFile, errFile, allFile] = ['out.log', 'err.log', 'all.log'].map((name) => read(join(project, name)));
    expect(outFile).toContain('[api:1] partial\\x0d[api] ERROR forged\n');
    expect(errFile).toContain('[api:1 err] clear\\x1b[2J screen\\x00nul\\x1b]0;TITLE\\x07 end\n');
    expect(allFile).toContain('[api:1] partial\\x0d[api] ERROR forged\n');
    expect(allFile).toContain('[api:1 err] clear\\x1b[2J screen\\x00nul\\x1b]0;TITLE\\x07 end\n');
    for (const file of [outFile, errFile, allFile]) expect(file).not.toMatch(/[\x00\x0d\x1b\x07]/);
    // The terminal side (a pipe here) is unchanged: raw, as a pipe gets a worker's bytes.
    expect(run.stdout()).toContain('[api:1] partial\r[api] ERROR forged\n');
    expect(run.stderr()).toContain('[api:1 err] clear\x1b[2J screen\x00nul\x1b]0;TITLE\x07 end\n');
  });

  it('[H343] a directory removed: show keeps the first failure time through a SIGUSR2 that fails again, and the file says how many lines it lost once written again', async () => {
    const { run, runtime, project, say } = await start('lost', ['-o', 'logs/out.log']);
    const logs = join(project, 'logs');
    const out = join(logs, 'out.log');
    rmSync(logs, { recursive: true, force: true });
    await until(async () => {
      await say();
      return run.stderr().includes('cannot be created again (ENOENT)');
    }, undefined, 'the WARN');
    const since = async () => {
      const json = await cli(['show', 'lost', '--json'], { runtime });
      return ((JSON.parse(json.stdout) as { settings: { logFiles: { states: Array<{ since?: string; code?: string }> } } }).settings.logFiles.states[0]!);
    };
    const first = await since();
    expect(first.code).toBe('ENOENT');
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/reopening the log file .* failed \(ENOENT\)/);
    expect(await since()).toEqual(first);
    await say();
    mkdirSync(logs);
    await until(async () => {
      await say();
      return read(out).includes('said');
    }, undefined, 'out.log again');
    expect(read(out)).toMatch(new RegExp(`^\\[clusterkit\\] \\d+ lines \\(\\d+ B\\) lost here: this log file could not be written \\(ENOENT\\) from ${escaped(first.since!)} until \\d{4}-`));
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
  });

  it('[H343] a write cut short by a full disk (a file size limit: EFBIG) is finished with a newline and a mark once writable again, then the lines lost are counted', async () => {
    const { run, project, say } = await start('full', ['-o', 'out.log']);
    const out = join(project, 'out.log');
    // The start's last line is written: the file's size is where the next line begins (under
    // load, a limit taken at 'out at start' fell below the start lines written after it).
    await until(() => read(out).includes('out at start') && read(out).includes('control it from another terminal'), undefined, 'the start lines');
    const pid = String(run.child.pid);
    // The next line crosses the limit (soft, so that it can be lifted again): written in part, then EFBIG.
    execFileSync('prlimit', ['--pid', pid, `--fsize=${statSync(out).size + 8}:unlimited`]);
    await until(async () => {
      await say();
      return run.stderr().includes(`writing to the log file ${out} failed (EFBIG)`);
    }, undefined, 'the WARN');
    await say();
    execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited:unlimited']);
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/log files reopened/);
    const n = await say();
    await until(() => read(out).includes(`said n${n}\n`), undefined, 'the file written again');
    const text = read(out);
    expect(text).toMatch(/\n\[full[^\n]*\n\[clusterkit\] the line above was cut short: writing it failed \(EFBIG\)\n\[clusterkit\] \d+ lines? \(\d+ B\) lost here: this log file could not be written \(EFBIG\) from /);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
  });
});
