import { describe, expect, it } from '@jest/globals';
import type { LogEntry } from '../../src/control/log-protocol.js';
import { checkLogsRequest, describeSlots } from '../../src/control/log-protocol.js';
import { slotNote } from '../../src/control/log-client.js';
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
    expect(sanitizeLine(line, true)).toBe('a\\x1b]0;title\\x07b\x1b[31mred\x1b[0m\\x0dc\\u202edef\\x9bz\ttab\x1b[0m');
    expect(sanitizeLine('plain text, ünïcödé', false)).toBe('plain text, ünïcödé');
  });

  it('[H534] ends a line with its colors reset, and drops conceal, which hides text', () => {
    // Never reset by the worker: before, black on black went on over every later line.
    expect(sanitizeLine('\x1b[30;40mblack on black', true)).toBe('\x1b[30;40mblack on black\x1b[0m');
    expect(sanitizeLine('\x1b[8mconceal starts', true)).toBe('conceal starts');
    expect(sanitizeLine('\x1b[1;8;31mbold hidden red', true)).toBe('bold hidden red');
    // 8 as a color index (38;5;8: grey) or an RGB component is no conceal.
    expect(sanitizeLine('\x1b[38;5;8mgrey', true)).toBe('\x1b[38;5;8mgrey\x1b[0m');
    expect(sanitizeLine('\x1b[38;2;8;8;8mdark', true)).toBe('\x1b[38;2;8;8;8mdark\x1b[0m');
    expect(sanitizeLine('no color at all', true)).toBe('no color at all');
  });
});

describe('LogBuffer', () => {
  it('keeps the last lines within both bounds, filters by worker, and feeds subscribers', () => {
    const buffer = new LogBuffer(3, 10);
    const seen: string[] = [];
    const unsubscribe = buffer.subscribe((added) => seen.push(added.msg));
    for (const [msg, id] of [['a', 1], ['b', 2], ['c', 1], ['d', 2]] as const) buffer.add(entry(msg, id));
    expect(buffer.recent(10, undefined).map((kept) => kept.msg)).toEqual(['b', 'c', 'd']);
    expect(buffer.recent(10, { workerId: 2 }).map((kept) => kept.msg)).toEqual(['b', 'd']);
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

  // Hostile t69: `logs --err` said older lines were gone when only stdout lines had left the buffer.
  it('[H687] counts the lines that left it by output, worker and slot, for the note on older lines', () => {
    const buffer = new LogBuffer(4, 1_000);
    const line = (msg: string, workerId: number, slot: number, stream: 'stdout' | 'stderr'): LogEntry => ({ time: 0, source: 'worker', stream, msg, workerId, slot });
    buffer.add(line('a', 1, 0, 'stdout'));
    buffer.add(line('b', 2, 1, 'stderr'));
    for (const msg of ['c', 'd', 'e', 'f']) buffer.add(line(msg, 3, 0, 'stdout'));
    // a (worker 1, slot 0, stdout) and b (worker 2, slot 1, stderr) are gone.
    expect(buffer.evicted).toBe(2);
    expect(buffer.evictedOf(undefined)).toBe(2);
    expect(buffer.evictedOf({ output: 'stderr' })).toBe(1);
    expect(buffer.evictedOf({ output: 'stdout' })).toBe(1);
    expect(buffer.evictedOf({ workerId: 3 })).toBe(0);
    expect(buffer.evictedOf({ workerId: 1 })).toBe(1);
    expect(buffer.evictedOf({ workerId: 1, output: 'stderr' })).toBe(0);
    expect(buffer.evictedOf({ slot: 0, output: 'stdout' })).toBe(1);
    expect(buffer.evictedOf({ slot: 0, output: 'stderr' })).toBe(0);
    expect(buffer.evictedOf({ slot: 1 })).toBe(1);
    expect(buffer.evictedOf({ slot: 2 })).toBe(0);
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

describe('LogBuffer cursors', () => {
  it('reads on from a cursor in chunks, filters by worker, and counts what left the buffer unread', () => {
    const buffer = new LogBuffer(4, 1_000);
    for (const [msg, id] of [['a', 1], ['b', 2], ['c', 1], ['d', 2]] as const) buffer.add(entry(msg, id));
    expect(buffer.end).toBe(4);
    expect(buffer.startOf(2, undefined)).toBe(2);
    expect(buffer.startOf(2, { workerId: 1 })).toBe(0);
    expect(buffer.startOf(0, undefined)).toBe(4);
    expect(buffer.startOf(99, { workerId: 2 })).toBe(1);
    const chunk = buffer.read(0, 4, undefined, 2);
    expect([chunk.entries.map((kept) => kept.msg), chunk.next, chunk.skipped]).toEqual([['a', 'b'], 2, 0]);
    expect(buffer.read(0, 4, { workerId: 2 }, 1_000).entries.map((kept) => kept.msg)).toEqual(['b', 'd']);
    // Three more lines push a, b and c out: a reader at 1 skips b and c, reads d, e, f, g.
    for (const msg of ['e', 'f', 'g']) buffer.add(entry(msg));
    const late = buffer.read(1, buffer.end, undefined, 1_000);
    expect([late.entries.map((kept) => kept.msg), late.next, late.skipped]).toEqual([['d', 'e', 'f', 'g'], 7, 2]);
    // At least one entry, however small the chunk; nothing past `until`.
    expect(buffer.read(3, 7, undefined, 0).entries.map((kept) => kept.msg)).toEqual(['d']);
    expect(buffer.read(5, 6, undefined, 1_000).entries.map((kept) => kept.msg)).toEqual(['f']);
    expect(buffer.read(7, 7, undefined, 1_000)).toEqual({ entries: [], next: 7, skipped: 0 });
  });

  it('filters by slot: the lines of every worker that served it, not those of another slot or without one', () => {
    const buffer = new LogBuffer(10, 1_000);
    const inSlot = (msg: string, workerId: number, slot: number): LogEntry => ({ ...entry(msg, workerId), slot });
    for (const added of [inSlot('a', 1, 0), inSlot('b', 2, 1), entry('c'), inSlot('d', 3, 1), inSlot('e', 4, 0)]) buffer.add(added);
    expect(buffer.read(0, buffer.end, { slot: 1 }, 1_000).entries.map((kept) => kept.msg)).toEqual(['b', 'd']);
    expect(buffer.startOf(1, { slot: 1 })).toBe(3);
    expect(buffer.startOf(5, { slot: 0 })).toBe(0);
    expect(buffer.recent(5, { slot: 7 })).toEqual([]);
  });
});

describe('checkLogsRequest', () => {
  it('takes a slot from 0, never with a worker id', () => {
    expect(() => checkLogsRequest({ slot: 0 })).not.toThrow();
    for (const slot of [-1, 1.5, '1', null, 1e300, 2 ** 53, Number.NaN]) {
      expect(() => checkLogsRequest({ slot })).toThrow(/"logs" needs "slot" to be an integer from 0/);
    }
    // `"slot":1e400` in a request parses as Infinity: said as such, never as JSON's "null".
    expect(() => checkLogsRequest({ slot: JSON.parse('1e400') })).toThrow(/Received Infinity\.$/);
    expect(() => checkLogsRequest({ slot: Number.NaN })).toThrow(/Received NaN\.$/);
    // --err / --out (H225).
    expect(() => checkLogsRequest({ output: 'stderr' })).not.toThrow();
    expect(() => checkLogsRequest({ output: 'err' })).toThrow('"logs" needs "output" to be "stdout" or "stderr". Received "err".');
    expect(() => checkLogsRequest({ slot: 1, workerId: 3 })).toThrow('"logs" takes "workerId" or "slot", not both');
  });

  it('says the slots a cluster has', () => {
    expect(describeSlots([])).toBe('no slot is served now');
    expect(describeSlots([0])).toBe('its only slot is 0');
    expect(describeSlots([0, 1, 2])).toBe('its slots are 0 to 2 (3 workers)');
    expect(describeSlots([0, 2, 3], "api's")).toBe("api's slots are 0, 2 and 3");
  });
});

describe('slotNote (a note from the control socket)', () => {
  it('keeps a well-formed note and nothing else, drops any other', () => {
    expect(slotNote({ slot: 1, workerId: 7, previousWorkerId: 3, reason: 'reload', extra: '\x1b[2J' })).toEqual({ slot: 1, workerId: 7, previousWorkerId: 3, reason: 'reload' });
    expect(slotNote({ slot: 3, previousWorkerId: 6, reason: 'scale-down' })).toEqual({ slot: 3, previousWorkerId: 6, reason: 'scale-down' });
    for (const forged of [
      null,
      'slot 1',
      { slot: -1, workerId: 7, reason: 'reload' },
      { slot: 1.5, workerId: 7, reason: 'reload' },
      { slot: 1, workerId: 0, reason: 'reload' },
      { slot: 1, workerId: '7', reason: 'reload' },
      { slot: 1, workerId: 7, reason: 'because\x1b[2J' },
      { slot: 1, reason: 'reload' },
      { slot: 1, workerId: 7, previousWorkerId: 1e300, reason: 'reload' },
    ]) {
      expect(slotNote(forged)).toBeUndefined();
    }
  });
});
