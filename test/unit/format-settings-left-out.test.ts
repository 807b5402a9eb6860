/**
 * [H515] `clusterkit show` of the watch's paths left out for the rest of the run (H511): listed
 * apart from the dropped ones, which a change at another time watches again, in the settings
 * (`leftOut` beside `dropped`, a path in one of them) and in the text. The settings come from
 * another process: only strings are shown, escaped, and an older primary's (no `leftOut`) still
 * reads.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary } from '../../src/index.js';
import { clusterSettings } from '../../src/control/cluster-settings.js';
import type { ClusterDescription } from '../../src/control/control-protocol.js';
import { formatDescription } from '../../src/cli/format-settings.js';
import { fixture } from '../helpers/primary.js';

function described(watch: unknown): ClusterDescription {
  const status = { name: 'w2', pid: 1, state: 'running', startedAt: 0, uptimeMs: 1, script: 'server.js', targetWorkers: 0, nodeVersion: 'v20.0.0', workers: [], protocolErrors: 0 };
  return { ...status, settings: { execMode: 'cluster', envNames: [], ignoredPm2Keys: [], watch } } as unknown as ClusterDescription;
}

const watchRow = (watch: unknown) => /\nwatch +(.*)\n/.exec(formatDescription(described(watch)))?.[1];

const kDroppedNote = "(written while each of 3 reloads in a row ran, as an app's output is; a change at another time watches it again)";

describe('[H515] show: the watch paths left out for the rest of the run', () => {
  it('[H515] are on a line of their own, apart from the dropped ones, and never said to be watched again by a change', () => {
    expect(watchRow({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: ['/p/a.txt'], leftOut: ['/p/debug.txt', '/p/debug2.txt'], looping: [] })).toBe(
      `on: /p; changes during reloads ignored: /p/a.txt ${kDroppedNote}; ` +
        'left out of the watch for the rest of this run: /p/debug.txt, /p/debug2.txt (found looping again after they were watched again; clusterkit run starts watching them again when it restarts); ' +
        'a reload 100ms after the last change',
    );
    const one = watchRow({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: [], leftOut: ['/p/debug.txt'], looping: [] });
    expect(one).toBe('on: /p; left out of the watch for the rest of this run: /p/debug.txt (found looping again after it was watched again; clusterkit run starts watching it again when it restarts); a reload 100ms after the last change');
    expect(one).not.toContain('changes during reloads ignored');
  });

  it('[H515] shows only the strings of an untrusted list, escaped, 5 named and the rest counted; an older primary with no leftOut reads as before', () => {
    const leftOut = [7, null, '/p/x\n[w2] forged line', ...Array.from({ length: 6 }, (_, index) => `/p/f${index}.txt`)];
    const row = watchRow({ paths: ['/p'], ignore: [], delayMs: 100, dropped: [], leftOut });
    expect(row).toBe(
      'on: /p; left out of the watch for the rest of this run: /p/x\\n[w2] forged line, /p/f0.txt, /p/f1.txt, /p/f2.txt, /p/f3.txt and 2 more (show --json lists them all) ' +
        '(found looping again after they were watched again; clusterkit run starts watching them again when it restarts); a reload 100ms after the last change',
    );
    expect(watchRow({ paths: ['/p'], ignore: [], delayMs: 100, dropped: [], leftOut: 'debug.txt' })).toBe('on: /p; a reload 100ms after the last change');
    expect(watchRow({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: ['/p/a.txt'], looping: [] })).toBe(`on: /p; changes during reloads ignored: /p/a.txt ${kDroppedNote}; a reload 100ms after the last change`);
  });

  it('[H515] the settings list a path left out under leftOut alone, as the watch tells them (dropped() holds both)', () => {
    const primary = new ClusterPrimary({ workerScript: fixture('workers/ready.ts'), logger: false, handleSignals: false });
    const settings = clusterSettings(primary, {
      scriptArgs: [],
      countReason: undefined,
      health: undefined,
      envNames: [],
      watch: { paths: ['/p'], ignore: [], delayMs: 100, dropped: () => ['/p/a.txt', '/p/debug.txt'], leftOut: () => ['/p/debug.txt'] },
    });
    expect(settings.watch).toEqual({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: ['/p/a.txt'], leftOut: ['/p/debug.txt'], looping: [], largeDirectories: [], full: [] });
    // A watch that tells no leftOut (a library's own): dropped as told, leftOut empty.
    const older = clusterSettings(primary, { scriptArgs: [], countReason: undefined, health: undefined, envNames: [], watch: { paths: ['/p'], ignore: [], delayMs: 100, dropped: () => ['/p/a.txt'] } });
    expect(older.watch).toMatchObject({ dropped: ['/p/a.txt'], leftOut: [] });
  });

  it('[H650] a directory left out for its size is listed for what it is, with the way to watch it', () => {
    expect(watchRow({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: [], looping: [], largeDirectories: ['/p/uploads'] })).toBe(
      'on: /p; left out of the watch for the rest of this run for their size: /p/uploads (more than 2000 entries each; named among the watched paths, a directory is watched whatever it holds); a reload 100ms after the last change',
    );
    // Full: where new entries are not watched now (watch tester t65: show said "on" meanwhile).
    expect(watchRow({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: [], looping: [], full: ['/p/dist', '/p/cache/d45'] })).toBe(
      'on: /p; full (50,000 entries): new entries in /p/dist, /p/cache/d45 are not watched until others are gone; a reload 100ms after the last change',
    );
    // From another process: what is no string is not shown.
    expect(watchRow({ paths: ['/p'], ignore: [], delayMs: 100, missing: [], dropped: [], looping: [], largeDirectories: [7, { a: 1 }] })).toBe('on: /p; a reload 100ms after the last change');
  });
});
