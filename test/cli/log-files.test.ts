/**
 * [H314] Log files of `clusterkit run` (PM2's out_file, error_file, log_file): `-o/--output`,
 * `-e/--error`, `-l/--log`, a config's `outFile`/`errorFile`/`logFile` and PM2's keys for them.
 * Each file gets a copy of what `run` writes to its stdout, its stderr, or both in order, the
 * terminal's output unchanged; a file that cannot be opened is refused before any fork (exit 2);
 * SIGUSR2 reopens the files (after `mv app.log app.log.1`, the next lines go to a new app.log).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { spawnScript } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

/** Says a line at start on each stream, then one per GET /say?text=... (on stderr with &to=err). */
const kScript = `
const http = require('node:http');
console.log('out at start');
console.error('err at start');
http.createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (url.pathname === '/say') (url.searchParams.get('to') === 'err' ? console.error : console.log)('said ' + url.searchParams.get('text'));
  response.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('clusterkit run: log files', () => {
  it('[H314][H334] -o gets the stdout lines and the primary\'s INFO ones, -e the stderr ones but those, -l both in order, the primary\'s and the workers\'; the terminal output is unchanged', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kScript });
    mkdirSync(join(project, 'logs'));
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'files', '-o', 'logs/out.log', '-e', 'logs/err.log', '--log', 'logs/all.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service files started/);
    await get(`http://127.0.0.1:${port}/say?text=one`);
    await get(`http://127.0.0.1:${port}/say?text=two&to=err`);
    await run.waitFor(/said two/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);

    const [out, err, all] = (['out', 'err', 'all'] as const).map((name) => read(join(project, 'logs', `${name}.log`))) as [string, string, string];
    // What the terminal got, to the last line (written at the exit); the primary's INFO lines,
    // on the terminal's stderr, go to the output file, as `logs --out` shows them (H334).
    const infoLines = (text: string) => lines(text).filter((line) => /^\[files\] (?!WARN|ERROR)/.test(line));
    expect(lines(out).filter((line) => !line.startsWith('[files] '))).toEqual(lines(run.stdout()));
    expect(lines(out).filter((line) => line.startsWith('[files] '))).toEqual(infoLines(run.stderr()));
    expect(lines(err)).toEqual(lines(run.stderr()).filter((line) => !infoLines(run.stderr()).includes(line)));
    expect(out).toContain('[files:1] out at start\n');
    expect(out).toContain('[files:1] said one\n');
    expect(out).not.toContain('err at start');
    expect(err).toContain('[files:1 err] err at start\n');
    expect(err).toContain('[files:1 err] said two\n');
    expect(out).toMatch(/^\[files\] starting 1 worker/m);
    expect(out).toMatch(/^\[files\] shutdown complete/m);
    expect(err).not.toMatch(/^\[files\] /m);
    // Both, each stream's lines in their order, and the request's lines in the order they were said.
    expect(lines(all).filter((line) => lines(out).includes(line))).toEqual(lines(out));
    expect(lines(all).filter((line) => lines(err).includes(line))).toEqual(lines(err));
    expect(lines(all)).toHaveLength(lines(out).length + lines(err).length);
    expect(all.indexOf('[files:1] said one')).toBeLessThan(all.indexOf('[files:1 err] said two'));
    expect(all.indexOf('[files:1 err] said two')).toBeLessThan(all.indexOf('[files] shutting down'));
    // The primary's lines with the workers', in the order written.
    expect(all.indexOf('[files] starting 1 worker')).toBeLessThan(all.indexOf('[files:1] said one'));
  });

  it('[H535] process.exit() waits for a log file\'s write still on its way to the disk: every line is in the file, the last one last (before, it came first, or the rest was lost)', async () => {
    const path = join(tempProject({}), 'out.log');
    const writer = spawnScript('test/fixtures/log-files-exit-writer.ts', { args: [path], env: { UV_THREADPOOL_SIZE: '1' } });
    expect(await writer.exited()).toBe(0);
    const written = lines(read(path));
    expect(written).toHaveLength(1001);
    expect(written.at(-1)).toBe('last line');
    expect(written.slice(0, 1000).every((line) => line === 'x'.repeat(99))).toBe(true);
  });

  it('[H537] a worker\'s last burst of output before its stop reaches the terminal and the log file whole: its exit waits for its stdout', async () => {
    const script = `
const http = require('node:http');
http.createServer((request, response) => {
  for (let i = 0; i < 20000; i++) console.log('line ' + i + ' ' + 'x'.repeat(100));
  console.log('END');
  response.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
    const project = tempProject({ 'server.cjs': script });
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'last', '-o', 'out.log'], { runtime: runtimeDir(), cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service last started/);
    // Answered once every line was written by the script: most of them still wait in the worker.
    await get(`http://127.0.0.1:${port}/`);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    // Before: a few thousand of the 20 001 lines, the stop still said graceful (hostile tester t56).
    const said = lines(run.stdout()).filter((line) => line.startsWith('[last:1] '));
    expect(said).toHaveLength(20_001);
    expect(said.at(-1)).toBe('[last:1] END');
    expect(lines(read(join(project, 'out.log'))).filter((line) => line.startsWith('[last:1] '))).toEqual(said);
    expect(run.stderr()).toMatch(/shutdown complete graceful=1 failed=0 killed=0/);
  }, 60_000);

  it('[H314] a PM2 ecosystem file\'s out_file, err and log_file, relative to the config file\'s directory; merge_logs accepted silently; JSON lines too; show lists them', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'app/server.cjs': kScript,
      'app/ecosystem.config.cjs': `module.exports = { apps: [{ name: 'eco', script: 'server.cjs', log_type: 'json', out_file: 'logs/eco-out.log', err: 'logs/eco-err.log', log_file: 'logs/eco.log', merge_logs: true, env: { PORT: '${port}' } }] };`,
    });
    mkdirSync(join(project, 'app', 'logs'));
    // Run from the project's root: the paths are the config file's directory's.
    const run = startCli(['run', 'app/ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service eco started/);
    const shown = await cli(['show', 'eco'], { runtime });
    expect(shown.code).toBe(0);
    const logs = join(project, 'app', 'logs');
    expect(shown.stdout).toMatch(new RegExp(`^log files +the workers' stdout and the primary's info lines to ${logs}/eco-out\\.log \\(PM2: out_file\\), the workers' stderr and the primary's warnings and errors to ${logs}/eco-err\\.log \\(PM2: error_file\\), all of them to ${logs}/eco\\.log \\(PM2: log_file\\); SIGUSR2 to the primary reopens them$`, 'm'));
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    // No warning of the log keys: each is used (merge_logs is what clusterkit does).
    expect(run.stderr()).not.toMatch(/out_file|merge_logs|"err"/);
    const out = read(join(logs, 'eco-out.log'));
    const err = read(join(logs, 'eco-err.log'));
    // Each terminal line in one file: the error file the lines of level warn and above (the
    // workers' stderr at 50), the output file the others, the primary's info lines included (H334).
    expect(lines(out).filter((line) => lines(run.stdout()).includes(line))).toEqual(lines(run.stdout()));
    expect(lines(err).every((line) => (JSON.parse(line) as { level: number }).level >= 40)).toBe(true);
    expect(lines(err).length).toBeGreaterThan(0);
    expect(lines(out)).toHaveLength(lines(run.stdout()).length + lines(run.stderr()).length - lines(err).length);
    expect(out).toMatch(/"msg":"service eco started/);
    // The config's notice, said before the files were known, is in them too: a plain line, as on the terminal.
    const [notice, ...json] = lines(read(join(logs, 'eco.log')));
    expect(notice).toMatch(/^clusterkit: reading app\/ecosystem\.config\.cjs as a config file/);
    const records = json.map((line) => JSON.parse(line) as { msg: string; stream?: string });
    expect(records.map((record) => record.msg)).toEqual(expect.arrayContaining(['out at start', 'err at start', expect.stringMatching(/^service eco started/)]));
    expect(records.find((record) => record.msg === 'err at start')?.stream).toBe('stderr');
    expect(existsSync(join(project, 'logs'))).toBe(false);
  });

  it('[H314] a log file in a missing directory is refused before any worker forks: exit 2, LogFileError\'s message naming the path, the cause and what to do; PM2\'s log: true is refused with a path to give', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'dflt', script: 'server.cjs', log: true }] };",
    });
    const missing = await cli(['run', 'server.cjs', '-w', '1', '--name', 'nodir', '-l', 'nowhere/app.log'], { runtime, cwd: project });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(`clusterkit: Cannot open the log file ${join(project, 'nowhere', 'app.log')} for appending (ENOENT): its directory does not exist: create it (mkdir -p), or give a path in an existing directory.\n`);

    const defaulted = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    expect(defaulted.code).toBe(2);
    expect(defaulted.stderr).toContain(`"apps[0].log" is true, which PM2 takes for a file of its own under ~/.pm2/logs; clusterkit has no default log path: give one, as in log: './logs/dflt.log' (relative to the app's cwd).`);
    expect(defaulted.stderr).not.toMatch(/starting \d+ worker/);
  });

  it('[H659] a log file that is a file the run reads (the script, an env file, the config file, by another name too) is refused before any line is written: exit 2, the file unchanged', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kScript,
      '.env': 'GREETING=hi\n',
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'selfcfg', script: 'server.cjs', out_file: 'ecosystem.config.cjs' }] };",
    });
    const before = { script: read(join(project, 'server.cjs')), env: read(join(project, '.env')), config: read(join(project, 'ecosystem.config.cjs')) };
    // Hostile t66: `-o s.js` appended the primary's lines to the script; every worker then failed on them.
    const script = await cli(['run', 'server.cjs', '-w', '1', '--name', 'selfout', '-o', 'server.cjs'], { runtime, cwd: project });
    expect(script.code).toBe(2);
    expect(script.stderr).toBe(`clusterkit: Cannot use ${join(project, 'server.cjs')} as a log file: it is the script the workers run, and each line of the run's output appended to it would change it. Give the log another path (such as app.out.log).\n`);
    // The env file under another name (a symlink), as -l; and Node's own --env-file.
    symlinkSync(join(project, '.env'), join(project, 'env-link'));
    const env = await cli(['run', 'server.cjs', '-w', '1', '--name', 'selfenv', '--env-file', '.env', '-l', 'env-link'], { runtime, cwd: project });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(`as a log file: it is ${join(project, '.env')}, an env file the run loads, and each line`);
    const nodeEnv = await cli(['run', 'server.cjs', '-w', '1', '--name', 'selfenv2', '--node-arg=--env-file=.env', '-e', '.env'], { runtime, cwd: project });
    expect(nodeEnv.code).toBe(2);
    expect(nodeEnv.stderr).toContain('it is an env file Node loads (--env-file in --node-arg or nodeArgs)');
    // Retest t67: a --require in NODE_OPTIONS, the package.json Node reads for the script, another app's script.
    writeFileSync(join(project, 'pre.cjs'), '// preloaded\n');
    writeFileSync(join(project, 'package.json'), '{"type":"commonjs"}\n');
    const preload = await cli(['run', 'server.cjs', '-w', '1', '--name', 'selfpre', '--env', 'NODE_OPTIONS=--require ./pre.cjs', '-o', 'pre.cjs'], { runtime, cwd: project });
    expect(preload.code).toBe(2);
    expect(preload.stderr).toContain('it is a module Node preloads (--require in NODE_OPTIONS)');
    const manifest = await cli(['run', 'server.cjs', '-w', '1', '--name', 'selfpkg', '-o', 'package.json'], { runtime, cwd: project });
    expect(manifest.code).toBe(2);
    expect(manifest.stderr).toContain("it is the package.json Node reads for the script's module type");
    writeFileSync(join(project, 'other.cjs'), kScript);
    writeFileSync(join(project, 'two.config.json'), JSON.stringify({ apps: [{ name: 'one', script: 'server.cjs', outFile: 'other.cjs' }, { name: 'two', script: 'other.cjs' }] }));
    const crossed = await cli(['run', 'two.config.json'], { runtime, cwd: project });
    expect(crossed.code).toBe(2);
    expect(crossed.stderr).toContain(`Cannot use ${join(project, 'other.cjs')} as a log file: it is the script the workers run, in app "two", and each line`);
    expect(read(join(project, 'other.cjs'))).toBe(kScript);
    expect(read(join(project, 'pre.cjs'))).toBe('// preloaded\n');
    expect(read(join(project, 'package.json'))).toBe('{"type":"commonjs"}\n');
    const config = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('as a log file: it is the config file the settings were read from');
    for (const result of [script, env, nodeEnv, config]) expect(result.stderr).not.toMatch(/starting \d+ worker/);
    expect({ script: read(join(project, 'server.cjs')), env: read(join(project, '.env')), config: read(join(project, 'ecosystem.config.cjs')) }).toEqual(before);
  });

  it('[H314] SIGUSR2 reopens the log files: after mv app.log app.log.1, the earlier lines stay in app.log.1 and the next ones go to a new app.log, with an INFO line', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kScript });
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'rotated', '-l', 'app.log'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service rotated started/);
    await get(`http://127.0.0.1:${port}/say?text=before`);
    await run.waitFor(/said before/);
    const log = join(project, 'app.log');
    await until(() => read(log).includes('said before'), undefined, 'the line in app.log');
    renameSync(log, `${log}.1`);
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/log files reopened: /);
    await get(`http://127.0.0.1:${port}/say?text=after`);
    await run.waitFor(/said after/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);

    const old = read(`${log}.1`);
    const fresh = read(log);
    expect(old).toContain('[rotated:1] said before\n');
    expect(old).not.toContain('said after');
    expect(fresh).toMatch(new RegExp(`^\\[rotated\\] log files reopened: ${log} signal=SIGUSR2\\n`));
    expect(fresh).toContain('[rotated:1] said after\n');
    expect(fresh).not.toContain('said before');
    // Not the "SIGUSR2 ignored" line of a run without log files.
    expect(run.output()).not.toContain('SIGUSR2 ignored');
  });

  it('[H319] under --watch, run\'s own log files in the watched directory (any name) and their rotated copies are no change: a line written there reloads nothing', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': kScript, 'lib.cjs': 'module.exports = 1;\n' });
    const port = await freePort();
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'wlog', '--watch', '-o', 'out.txt', '-l', 'all.out'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service wlog started/);
    // The watch is armed after the start: a change before its line is not seen (under two CPU hogs
    // it came after the test's write, and no reload followed).
    await run.waitFor(/\[wlog\] watching \./);
    await get(`http://127.0.0.1:${port}/say?text=one`);
    await until(() => read(join(project, 'all.out')).includes('said one'));
    renameSync(join(project, 'out.txt'), join(project, 'out.txt.1'));
    process.kill(run.child.pid!, 'SIGUSR2');
    await run.waitFor(/log files reopened/);
    await get(`http://127.0.0.1:${port}/say?text=two`);
    await until(() => read(join(project, 'out.txt')).includes('said two'));
    // A real change: its line names it alone, and it is the only reload.
    writeFileSync(join(project, 'lib.cjs'), 'module.exports = 2;\n');
    await run.waitFor(/rolling reload complete/);
    // Before: "change detected in all.out, out.txt" at the first line, and a reload for each line since.
    expect(run.output()).toMatch(/change detected in lib\.cjs: reloading/);
    expect(run.output()).not.toMatch(/change detected in [^\n]*(out\.txt|all\.out)/);
    expect(run.output().match(/rolling reload started/g)).toHaveLength(1);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
  });

  it('[H319] PM2\'s no-file values are no log file: out_file NULL creates no file named NULL, error_file /dev/stderr writes no line twice', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'nofile', script: 'server.cjs', instances: 1, out_file: 'NULL', error_file: '/dev/stderr', env: { PORT: '${port}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service nofile started/);
    await run.waitFor(/err at start/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    expect(existsSync(join(project, 'NULL'))).toBe(false);
    expect(run.stderr().match(/err at start/g)).toHaveLength(1);
  });
});
