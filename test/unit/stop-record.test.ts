/**
 * The record a primary leaves of its stop (stop-record.ts), read back by `clusterkit stop`:
 * a forced stop's signal (H635, retest t61 L6), and nothing but a signal's name from the file.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { clearStopRecord, readStopRecord, writeStopRecord } from '../../src/control/stop-record.js';
import { onCleanup } from '../helpers/cleanup.js';

function directory(): string {
  const path = mkdtempSync(join(tmpdir(), 'ck-stop-record-'));
  onCleanup(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

describe('the stop record', () => {
  it('[H635] keeps the signal that forced the stop, and reads a clean stop as before', () => {
    const dir = directory();
    writeStopRecord(join(dir, 'forced.sock'), 'SIGTERM');
    expect(readStopRecord(join(dir, 'forced.stopped'))).toMatchObject({ pid: process.pid, forced: 'SIGTERM' });
    writeStopRecord(join(dir, 'clean.sock'));
    const clean = readStopRecord(join(dir, 'clean.stopped'));
    expect(clean).toMatchObject({ pid: process.pid });
    expect(clean).not.toHaveProperty('forced');
  });

  it('[H635] reads a forged "forced" as no signal: the file is read back into a message', () => {
    const dir = directory();
    for (const forced of ['SIGTERM; rm -rf /', 'sigterm', 42, '\u001b[2J', 'SIG' + 'X'.repeat(40)]) {
      writeFileSync(join(dir, 'x.stopped'), `${JSON.stringify({ pid: 123, at: Date.now(), forced })}\n`);
      const record = readStopRecord(join(dir, 'x.stopped'));
      expect(record).toMatchObject({ pid: 123 });
      expect(record).not.toHaveProperty('forced');
    }
  });

  it('[H645] a primary that takes a name sweeps the records no stop reads any more, and only those', () => {
    const dir = directory();
    // Hostile t64: `<name>.stopped` of names never run again piled up, hours old.
    const old = (Date.now() - 10 * 60_000) / 1000;
    for (const name of ['gone-a.stopped', 'gone-b.stopped', 'died.stopped.4242.draft']) {
      writeFileSync(join(dir, name), '{}');
      utimesSync(join(dir, name), old, old);
    }
    writeStopRecord(join(dir, 'recent.sock'));
    writeFileSync(join(dir, 'other.sock.txt'), 'not ours to sweep');
    utimesSync(join(dir, 'other.sock.txt'), old, old);
    mkdirSync(join(dir, 'a-directory.stopped'));
    utimesSync(join(dir, 'a-directory.stopped'), old, old);
    writeStopRecord(join(dir, 'mine.sock'));
    clearStopRecord(join(dir, 'mine.sock'));
    expect(['gone-a.stopped', 'gone-b.stopped', 'died.stopped.4242.draft', 'mine.stopped'].filter((name) => existsSync(join(dir, name)))).toEqual([]);
    expect(['recent.stopped', 'other.sock.txt', 'a-directory.stopped'].filter((name) => existsSync(join(dir, name)))).toEqual(['recent.stopped', 'other.sock.txt', 'a-directory.stopped']);
  });
});
