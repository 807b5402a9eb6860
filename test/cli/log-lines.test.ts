import { describe, expect, it } from '@jest/globals';
import type { LogEntry } from '../../src/control/log-protocol.js';
import { checkLogsRequest } from '../../src/control/log-protocol.js';
import { LineSplitter } from '../../src/cli/logs/line-splitter.js';
import { LogBuffer } from '../../src/cli/logs/log-buffer.js';
import { sanitizeLine } from '../../src/cli/logs/sanitize-line.js';
import { createIgnoreTest } from '../../src/cli/watch/watch-ignore.js';

const entry = (msg: string, workerId?: number): LogEntry => ({ time: 0, source: 'worker', stream: 'stdout', msg, ...(workerId === undefined ? {} : { workerId }) });

describe('LineSplitter', () => {
  it('splits chunks into lines, across chunk boundaries and multi-byte characters, dropping \\r before \\n', () => {
    const splitter = new LineSplitter();
    const euro = Buffer.from('€');
    expect(splitter.push(Buffer.concat([Buffer.from('one\r\ntw'), euro.subarray(0, 1)]))).toEqual([{ text: 'one', partial: false }]);
    expect(splitter.push(Buffer.concat([euro.subarray(1), Buffer.from('o\n\nthree')]))).toEqual([
      { text: 'tw€o', partial: false },
      { text: '', partial: false },
    ]);
    expect(splitter.end()).toEqual([{ text: 'three', partial: false }]);
    expect(splitter.end()).toEqual([]);
  });

  it('never holds more than the maximum: a long line comes out in pieces, all but the last partial', () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push('a'.repeat(25))).toEqual([
      { text: 'a'.repeat(10), partial: true },
      { text: 'a'.repeat(10), partial: true },
    ]);
    expect(splitter.push('b\n')).toEqual([{ text: 'aaaaab', partial: false }]);
    expect(splitter.push(`${'c'.repeat(10)}\n`)).toEqual([{ text: 'c'.repeat(10), partial: false }]);
    // A surrogate pair is never cut in half.
    expect(splitter.push(`${'d'.repeat(9)}😀x\n`)[0]).toEqual({ text: 'd'.repeat(9), partial: true });
  });
});

describe('sanitizeLine', () => {
  it('shows control characters as escapes, keeps colors only on a color terminal', () => {
    const line = 'a\x1b]0;title\x07b\x1b[31mred\x1b[0m\rc\u202edef\x9bz\ttab';
    expect(sanitizeLine(line, false)).toBe('a\\x1b]0;title\\x07bred\\x0dc\\u202edef\\x9bz\ttab');
    expect(sanitizeLine(line, true)).toBe('a\\x1b]0;title\\x07b\x1b[31mred\x1b[0m\\x0dc\\u202edef\\x9bz\ttab');
    expect(sanitizeLine('plain text, ünïcödé', false)).toBe('plain text, ünïcödé');
  });
});

describe('LogBuffer', () => {
  it('keeps the last lines within both bounds, filters by worker, and feeds subscribers', () => {
    const buffer = new LogBuffer(3, 10);
    const seen: string[] = [];
    const unsubscribe = buffer.subscribe((added) => seen.push(added.msg));
    for (const [msg, id] of [['a', 1], ['b', 2], ['c', 1], ['d', 2]] as const) buffer.add(entry(msg, id));
    expect(buffer.recent(10, undefined).map((kept) => kept.msg)).toEqual(['b', 'c', 'd']);
    expect(buffer.recent(10, 2).map((kept) => kept.msg)).toEqual(['b', 'd']);
    expect(buffer.recent(1, undefined).map((kept) => kept.msg)).toEqual(['d']);
    // The character bound (10): 'd' and a 9-character line fit, two more characters do not.
    buffer.add(entry('123456789'));
    expect(buffer.recent(10, undefined).map((kept) => kept.msg)).toEqual(['d', '123456789']);
    buffer.add(entry('xy'));
    expect(buffer.recent(10, undefined).map((kept) => kept.msg)).toEqual(['xy']);
    unsubscribe();
    buffer.add(entry('late'));
    expect(seen).toEqual(['a', 'b', 'c', 'd', '123456789', 'xy']);
  });

  it('drops a subscriber that throws, and goes on', () => {
    const buffer = new LogBuffer();
    let calls = 0;
    buffer.subscribe(() => {
      calls++;
      throw new Error('broken reader');
    });
    buffer.add(entry('one'));
    buffer.add(entry('two'));
    expect(calls).toBe(1);
    expect(buffer.size).toBe(2);
  });
});

describe('logs requests', () => {
  it('accepts the documented fields and names a bad one', () => {
    expect(() => checkLogsRequest({ lines: 0, follow: true, workerId: 3 })).not.toThrow();
    expect(() => checkLogsRequest({ lines: -1 })).toThrow('"logs" needs "lines" to be an integer from 0 to 1000000. Received -1.');
    expect(() => checkLogsRequest({ follow: 'yes' })).toThrow('"logs" needs "follow" to be a boolean. Received "yes".');
    expect(() => checkLogsRequest({ workerId: 1.5 })).toThrow('"logs" needs "workerId" to be a positive integer. Received 1.5.');
  });
});

describe('watch ignore rules', () => {
  it('ignores node_modules, dot entries, *.log and ~ backups below a watched root, and the user patterns', () => {
    const ignored = createIgnoreTest(['/app', '/home/me/.config/app'], ['logs', 'tmp/uploads', '*.sqlite'], '/app');
    const cases: Array<[string, boolean]> = [
      ['/app', false],
      ['/app/server.js', false],
      ['/app/src/routes/users.ts', false],
      ['/app/node_modules', true],
      ['/app/src/node_modules/x/index.js', true],
      ['/app/.git/HEAD', true],
      ['/app/.env', true],
      ['/app/src/.server.js.swp', true],
      ['/app/server.log', true],
      ['/app/server.js~', true],
      ['/app/logs', true],
      ['/app/src/logs/today.txt', true],
      ['/app/tmp/uploads/a.png', true],
      ['/app/tmp/other/a.png', false],
      ['/app/data/db.sqlite', true],
      // A root inside a dot directory is watched; only what lies below it is judged.
      ['/home/me/.config/app', false],
      ['/home/me/.config/app/settings.json', false],
    ];
    expect(cases.map(([path]) => [path, ignored(path)])).toEqual(cases);
  });
});
