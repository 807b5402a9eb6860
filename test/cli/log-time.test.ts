/**
 * [H335] Timestamps on the text lines of `clusterkit run` (PM2's `time` and `log_date_format`):
 * `--time` starts every line, the primary's and each worker's, with its time, on the terminal
 * and in the log files alike; `clusterkit logs --time` shows the time the buffer kept; a PM2
 * ecosystem's `log_date_format` is that format (and turns it on); a token the formatter does not
 * know is refused by name, exit 2. The formatter itself: each token, literal text, the cache.
 * [H362] With several apps, the launcher's own lines follow each app's style in its log file.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { compileTimeFormat, kDefaultTimeFormat } from '../../src/cli/logs/line-time.js';
import { launcherTerminalStyle } from '../../src/cli/logs/launcher-logger.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

/** A line on each stream at start; GET /say says a line on stdout. */
const kScript = `
const http = require('node:http');
console.log('out at start');
console.error('err at start');
http.createServer((request, response) => {
  if (request.url.startsWith('/say')) console.log('said');
  response.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** A zone with a half-hour offset and no DST: the offset token is not the machine's by chance. */
const kZone = { TZ: 'Asia/Kolkata' };
/** The default format, `YYYY-MM-DDTHH:mm:ss.SSSZ`, in that zone. */
const kIsoStamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30 /;

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('clusterkit run --time', () => {
  it('[H335] every line, the primary\'s and the workers\' stdout and stderr, starts with its time, on the terminal and in the -o/-e files; logs --time shows the kept time', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.cjs': kScript });
    mkdirSync(join(project, 'logs'));
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'stamped', '--time', '-o', 'logs/out.log', '-e', 'logs/err.log'], {
      runtime,
      cwd: project,
      env: { ...kZone, PORT: String(port) },
    });
    await run.waitFor(/service stamped started/);
    await run.waitFor(/\[stamped:1\] out at start/);
    await get(`http://127.0.0.1:${port}/say`);
    await run.waitFor(/\[stamped:1\] said/);
    const shown = await cli(['logs', 'stamped', '--time', '--lines', '100'], { runtime, env: kZone });
    const custom = await cli(['logs', 'stamped', '--time-format', '[at] HH:mm:ss', '--lines', '100'], { runtime, env: kZone });
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);

    // The terminal: each line stamped, the worker's stdout, its stderr and the primary's lines.
    const terminal = [...lines(run.stdout()), ...lines(run.stderr())];
    expect(terminal.filter((line) => !kIsoStamp.test(line))).toEqual([]);
    expect(terminal).toEqual(expect.arrayContaining([expect.stringMatching(/\+05:30 \[stamped:1\] said$/), expect.stringMatching(/\+05:30 \[stamped:1 err\] err at start$/), expect.stringMatching(/\+05:30 \[stamped\] shutdown complete /)]));
    // The files are a copy of those lines, stamps included.
    const [out, err] = [read(join(project, 'logs', 'out.log')), read(join(project, 'logs', 'err.log'))];
    expect(lines(out).filter((line) => !kIsoStamp.test(line))).toEqual([]);
    expect(lines(err).filter((line) => !kIsoStamp.test(line))).toEqual([]);
    expect(out).toMatch(/\+05:30 \[stamped:1\] out at start\n/);
    expect(out).toMatch(/\+05:30 \[stamped\] service stamped started/);
    expect(err).toMatch(/\+05:30 \[stamped:1 err\] err at start\n/);
    // The same line has the same time on the terminal and in the file.
    const saidLine = lines(out).find((line) => line.endsWith('[stamped:1] said'));
    expect(terminal).toContain(saidLine);
    // logs --time: the time the buffer kept, the same as run printed.
    expect(shown.code).toBe(0);
    const shownLines = [...lines(shown.stdout), ...lines(shown.stderr)];
    expect(shownLines.filter((line) => !kIsoStamp.test(line))).toEqual([]);
    expect(shownLines).toContain(saidLine);
    expect(custom.code).toBe(0);
    expect(lines(custom.stdout)).toEqual(expect.arrayContaining([expect.stringMatching(/^at \d\d:\d\d:\d\d \[stamped:1\] said$/)]));
  });

  it('[H335][H721] a PM2 ecosystem\'s log_date_format is the format of every line, in the out_file too, and is no longer a warning; logs --time stamps in it, show names it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'eco-time', script: 'server.cjs', instances: 1, log_date_format: 'YYYY-MM-DD HH:mm:ss Z', out_file: 'logs/out.log', env: { PORT: '${port}' } }] };`,
    });
    mkdirSync(join(project, 'logs'));
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project, env: kZone });
    await run.waitFor(/service eco-time started/);
    await run.waitFor(/\[eco-time:1\] out at start/);
    const show = await cli(['show', 'eco-time'], { runtime });
    // Newcomer t76: logs --time printed the default format (2026-12-07T10:00:00.000+05:30), unlike the files.
    const logs = await cli(['logs', 'eco-time', '--time', '--lines', '100'], { runtime, env: kZone });
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);

    const stamp = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 \[eco-time/;
    expect(run.stdout()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 \[eco-time:1\] out at start$/m);
    expect(lines(run.stderr()).filter((line) => line.includes('[eco-time')).every((line) => stamp.test(line))).toBe(true);
    expect(run.stderr()).not.toMatch(/log_date_format/);
    const out = read(join(project, 'logs', 'out.log'));
    expect(out).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 \[eco-time:1\] out at start$/m);
    expect(lines(out).filter((line) => line.includes('[eco-time')).every((line) => stamp.test(line))).toBe(true);
    expect(show.stdout).not.toMatch(/log_date_format.*not used/);
    expect(show.stdout).toContain('log time          each line starts with its time, formatted "YYYY-MM-DD HH:mm:ss Z" (--time-format; PM2: log_date_format); clusterkit logs --time uses it');
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 \[eco-time:1\] out at start$/m);
    expect(lines(logs.stdout).every((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+05:30 /.test(line))).toBe(true);
  });

  it('[H410] log_date_format with month names (\'MMM D HH:mm\', as PM2 users write it) runs and stamps every line in English', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'eco-mmm', script: 'server.cjs', instances: 1, log_date_format: 'ddd, MMM Do HH:mm', env: { PORT: '${port}' } }] };`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project, env: kZone });
    await run.waitFor(/service eco-mmm started/);
    await run.waitFor(/\[eco-mmm:1\] out at start/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
    const stamp = /^(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat), (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}(?:st|nd|rd|th) \d\d:\d\d \[eco-mmm/;
    expect(run.stdout()).toMatch(/^\w{3}, \w{3} \d{1,2}(?:st|nd|rd|th) \d\d:\d\d \[eco-mmm:1\] out at start$/m);
    expect(lines(run.stderr()).filter((line) => line.includes('[eco-mmm')).every((line) => stamp.test(line))).toBe(true);
  });

  it('[H362] several apps: the launcher\'s lines are in each app\'s log file as that app writes its own (its format, none, JSON), and on the terminal in the default format when the apps\' formats differ', async () => {
    const runtime = runtimeDir();
    const [portA, portB, portC] = [await freePort(), await freePort(), await freePort()];
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': `module.exports = { apps: [
        { name: 'ta', script: 'server.cjs', instances: 1, log_date_format: '[at] HH:mm:ss', log_file: 'logs/a.log', env: { PORT: '${portA}' } },
        { name: 'tb', script: 'server.cjs', instances: 1, log_file: 'logs/b.log', env: { PORT: '${portB}' } },
        { name: 'tc', script: 'server.cjs', instances: 1, log_type: 'json', log_file: 'logs/c.log', env: { PORT: '${portC}' } },
      ] };`,
    });
    mkdirSync(join(project, 'logs'));
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project, env: kZone });
    for (const name of ['ta', 'tb', 'tc']) await run.waitFor(new RegExp(`service ${name} started`));
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);

    const [a, b, c] = ['a', 'b', 'c'].map((name) => lines(read(join(project, 'logs', `${name}.log`))));
    const launcher = (file: string[]) => file.filter((line) => line.includes('[clusterkit] ') || line.includes('"name":"clusterkit"'));
    // Each app's file: the launcher's first and last lines, as that app writes its own.
    for (const file of [a!, b!, c!]) expect(launcher(file)).toEqual([expect.stringContaining('starting 3 apps'), expect.anything(), expect.anything(), expect.anything()]);
    expect(launcher(a!).every((line) => /^at \d\d:\d\d:\d\d \[clusterkit\] /.test(line))).toBe(true);
    expect(a!).toEqual(expect.arrayContaining([expect.stringMatching(/^at \d\d:\d\d:\d\d \[ta\] service ta started/)]));
    expect(launcher(b!).every((line) => line.startsWith('[clusterkit] '))).toBe(true);
    expect(b!).toEqual(expect.arrayContaining([expect.stringMatching(/^\[tb\] service tb started/)]));
    // The JSON app's file is JSON lines only, the launcher's among them.
    const records = c!.map((line) => JSON.parse(line) as { name: string; msg: string; app?: string });
    expect(records).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'clusterkit', msg: 'starting 3 apps, each in its own primary process: ta, tb, tc' }), expect.objectContaining({ name: 'clusterkit', app: 'tc', msg: 'app tc exited with code 0' })]));
    // The terminal, which every app shares: the launcher's lines in the default format, none of
    // the apps' (ta's differs from tb's unstamped lines), each app's own lines in its own.
    const terminal = lines(run.stderr());
    const launcherLines = terminal.filter((line) => line.includes('[clusterkit] '));
    expect(launcherLines.length).toBeGreaterThanOrEqual(4);
    expect(launcherLines.filter((line) => !kIsoStamp.test(line))).toEqual([]);
    expect(terminal).toEqual(expect.arrayContaining([expect.stringMatching(/^at \d\d:\d\d:\d\d \[ta\] service ta started/), expect.stringMatching(/^\[tb\] service tb started/)]));
  });

  it('[H362] the launcher\'s terminal style: the text apps\' shared format (or none), the default when they differ, JSON when every app writes JSON', () => {
    const line = (timeFormat?: string) => ({ logFormat: 'line' as const, timeFormat });
    const json = { logFormat: 'json' as const, timeFormat: undefined };
    expect(launcherTerminalStyle([line('HH:mm'), line('HH:mm'), json])).toEqual(line('HH:mm'));
    expect(launcherTerminalStyle([line(), json, line()])).toEqual(line());
    expect(launcherTerminalStyle([line('HH:mm'), line()])).toEqual(line(kDefaultTimeFormat));
    expect(launcherTerminalStyle([line(), line('HH:mm')])).toEqual(line(kDefaultTimeFormat));
    expect(launcherTerminalStyle([line('HH:mm'), line('ss')])).toEqual(line(kDefaultTimeFormat));
    expect(launcherTerminalStyle([json, json])).toEqual(json);
  });

  it('[H335] a token the formatter does not know is refused by name, exit 2: on the command line, in a PM2 file (with its other problems) and in logs', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kScript,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'bad-time', script: 'server.cjs', log_date_format: 'YYYY-MM-DD Q', kill_timeout: 'soon' }] };",
    });
    const flag = await cli(['run', 'server.cjs', '--time-format', 'YYYY-ww-DD'], { runtime, cwd: project });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--time-format has the token "ww" (in "YYYY-ww-DD"), which clusterkit does not format; it takes YYYY YY M MM MMM MMMM D DD Do d dd ddd dddd H HH h hh m mm s ss SSS Z ZZ A a X x');
    const file = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('"apps[0].log_date_format" has the token "Q"');
    expect(file.stderr).toContain('apps[0].kill_timeout');
    const json = await cli(['run', 'server.cjs', '--time', '--log-format', 'json'], { runtime, cwd: project });
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('--time applies to the line format only');
    const logs = await cli(['logs', 'any', '--time-format', 'Mo MMMM'], { runtime });
    expect(logs.code).toBe(2);
    expect(logs.stderr).toContain('--time-format has the token "o"');
  });
});

describe('the time formatter', () => {
  it('[H335] formats each token in local time, keeps text in brackets and non-token characters, and refuses what it cannot write', () => {
    // Local time, whatever this machine's zone (the CLI tests above set one with a half-hour offset).
    const time = new Date(2024, 2, 5, 8, 34, 5, 7).getTime();
    const minutes = -new Date(time).getTimezoneOffset();
    const hhmm = `${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}${String(Math.abs(minutes) % 60).padStart(2, '0')}`;
    const [zone, zz] = [`${minutes < 0 ? '-' : '+'}${hhmm.slice(0, 2)}:${hhmm.slice(2)}`, `${minutes < 0 ? '-' : '+'}${hhmm}`];
    expect(compileTimeFormat('YYYY-MM-DDTHH:mm:ss.SSSZ', 'x')(time)).toBe(`2024-03-05T08:34:05.007${zone}`);
    expect(compileTimeFormat('YY M D H m s ZZ', 'x')(time)).toBe(`24 3 5 8 34 5 ${zz}`);
    expect(compileTimeFormat('hh:mm A, h a', 'x')(time)).toBe('08:34 AM, 8 am');
    expect(compileTimeFormat('hh A', 'x')(new Date(2024, 2, 5, 20, 0).getTime())).toBe('08 PM');
    expect(compileTimeFormat('h A', 'x')(new Date(2024, 2, 5, 0, 0).getTime())).toBe('12 AM');
    expect(compileTimeFormat('[Day] DD [at] HH', 'x')(time)).toBe('Day 05 at 08');
    // [H410] moment's names and ordinals, in English (PM2's log_date_format: 'MMM D HH:mm').
    expect(compileTimeFormat('MMM D HH:mm', 'x')(time)).toBe('Mar 5 08:34');
    expect(compileTimeFormat('dddd, MMMM Do YYYY', 'x')(time)).toBe('Tuesday, March 5th 2024');
    expect(compileTimeFormat('ddd dd d', 'x')(time)).toBe('Tue Tu 2');
    expect(['1', '2', '3', '4', '11', '12', '13', '21', '22', '23', '31'].map((day) => compileTimeFormat('Do', 'x')(new Date(2024, 0, Number(day)).getTime()))).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '31st']);
    expect(compileTimeFormat('X x', 'x')(time)).toBe(`${Math.floor(time / 1000)} ${time}`);
    // The cache: the same millisecond, the same text; the next one, its own.
    const format = compileTimeFormat('ss.SSS', 'x');
    expect([format(time), format(time), format(time + 1)]).toEqual(['05.007', '05.007', '05.008']);
    const refusal = (format: string) => {
      try {
        compileTimeFormat(format, '--time-format');
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const [format, text] of [
      ['Q', 'the token "Q"'],
      ['YYYYY', 'the token "YYYYY"'],
      ['MMMMM', 'the token "MMMMM"'],
      ['Mo', 'the token "o"'],
      ['XX', 'the token "XX"'],
      ['HH [oops', 'a "[" with no "]"'],
      ['at noon', 'the token "oo"'],
      ['[text]', 'at least one date token'],
      ['HH\nmm', 'one line'],
    ] as const) {
      const error = refusal(format);
      expect(error).toBeInstanceOf(UsageError);
      expect({ format, code: (error as UsageError).code, message: (error as UsageError).message }).toEqual({ format, code: 'ERR_USAGE', message: expect.stringContaining(text) });
    }
  });
});
