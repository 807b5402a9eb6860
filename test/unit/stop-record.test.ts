/**
 * The record a primary leaves of its stop (stop-record.ts), read back by `clusterkit stop`:
 * a forced stop's signal (H635, retest t61 L6), and nothing but a signal's name from the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readStopRecord, writeStopRecord } from '../../src/control/stop-record.js';
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
});
