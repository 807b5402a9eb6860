/**
 * [H417] The control directory's file of an orphaned worker's lines: created 0600, capped (a
 * line past the cap is not appended), never through a link, never blocked by a FIFO, and never
 * a throw for the orphan. Real files, a real FIFO (mkfifo).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { appendOrphanLine, kOrphanLineMaxChars, kOrphanLinesMaxBytes, readOrphanLineFile, readOrphanLines, takeOrphanLines } from '../../src/control/orphan-lines.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function directory(): string {
  const made = mkdtempSync(join(tmpdir(), 'ck-orphan-lines-'));
  directories.push(made);
  return made;
}

/** A time a line may hold (H451: before 2020 or over a day ahead, a line is skipped). */
const kAt = Date.UTC(2026, 0, 1);

describe('the orphaned workers\' lines file', () => {
  it('[H417] appends one object a line, 0600, and reads them back oldest first', () => {
    const file = join(directory(), 'api.orphans.log');
    appendOrphanLine(file, { time: kAt, workerId: 1, pid: 10, msg: 'first' });
    appendOrphanLine(file, { time: kAt + 1, workerId: 2, pid: 11, msg: 'second' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readOrphanLines(file)).toEqual([
      { time: kAt, workerId: 1, pid: 10, msg: 'first' },
      { time: kAt + 1, workerId: 2, pid: 11, msg: 'second' },
    ]);
  });

  it('[H417] stops appending at the cap: the file never passes it', () => {
    const file = join(directory(), 'api.orphans.log');
    const msg = 'x'.repeat(1000);
    for (let i = 0; i < 100; i++) appendOrphanLine(file, { time: kAt + i, workerId: 1, pid: 10, msg });
    const size = statSync(file).size;
    expect(size).toBeLessThanOrEqual(kOrphanLinesMaxBytes);
    expect(size).toBeGreaterThan(kOrphanLinesMaxBytes - 1100);
    expect(readOrphanLines(file)!.every((line) => line.msg === msg)).toBe(true);
  });

  it('[H417] a FIFO at the path neither blocks nor throws, and is not read as lines', () => {
    const file = join(directory(), 'api.orphans.log');
    execFileSync('mkfifo', [file]);
    expect(() => appendOrphanLine(file, { time: kAt, msg: 'line' })).not.toThrow();
    expect(readOrphanLines(file)).toBeUndefined();
  });

  it('[H417] a directory gone or a file not writable: no throw', () => {
    const base = directory();
    expect(() => appendOrphanLine(join(base, 'gone', 'api.orphans.log'), { time: kAt, msg: 'line' })).not.toThrow();
    const file = join(base, 'ro.orphans.log');
    writeFileSync(file, '', { mode: 0o400 });
    expect(() => appendOrphanLine(file, { time: kAt, msg: 'line' })).not.toThrow();
  });

  it('[H439] every field of a line read back is checked: a bad one is skipped and counted', () => {
    const file = join(directory(), 'api.orphans.log');
    const good = { time: kAt + 5, workerId: 1, pid: 10, msg: 'good' };
    const bad = [{ time: 1e20, msg: 'x' }, { time: Number.NaN, msg: 'x' }, { time: kAt, msg: 7 }, { time: kAt, pid: -1, msg: 'x' }, { time: kAt, workerId: 1.5, msg: 'x' }, { time: kAt, msg: 'x'.repeat(kOrphanLineMaxChars + 1) }, [1], null];
    writeFileSync(file, [...bad.map((line) => JSON.stringify(line)), 'not json', JSON.stringify(good)].join('\n') + '\n', { mode: 0o600 });
    expect(readOrphanLineFile(file)).toEqual({ lines: [good], skipped: bad.length + 1 });
  });

  it('[H437] takeOrphanLines renames, reads and removes the file; a line appended after it starts a new file; a link is left alone', () => {
    const base = directory();
    const file = join(base, 'api.orphans.log');
    appendOrphanLine(file, { time: kAt, msg: 'first' });
    expect(takeOrphanLines(file)).toEqual({ lines: [{ time: kAt, msg: 'first', workerId: undefined, pid: undefined }], skipped: 0 });
    expect(readdirSync(base)).toEqual([]);
    expect(takeOrphanLines(file)).toBeUndefined();
    appendOrphanLine(file, { time: kAt + 1, msg: 'late' });
    expect(readOrphanLines(file)).toEqual([{ time: kAt + 1, msg: 'late', workerId: undefined, pid: undefined }]);
    const link = join(base, 'link.orphans.log');
    symlinkSync(file, link);
    expect(takeOrphanLines(link)).toBeUndefined();
    expect(existsSync(file)).toBe(true);
  });
});
