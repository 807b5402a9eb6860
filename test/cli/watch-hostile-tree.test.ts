/**
 * `--watch` on a hostile or big tree. A save during the watcher's first scan crashed the primary
 * (H468: the reload read the watcher before it was assigned), and a symbolic link in the watched
 * directory was followed out of it (H469: `ln -s / root` walked all of `/`). Real chokidar on
 * real directories and links, the cluster replaced by a recorder of reload calls.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { watchAndReload, type Watching } from '../../src/cli/watch/watch-reload.js';
import { TreeWatcher } from '../../src/cli/watch/tree-watcher.js';
import { until } from '../helpers/wait.js';
import { recordingLogger } from '../helpers/captured-logger.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('a save during the first scan [H468]', () => {
  it('[H468] app.js saved while chokidar still scans a big tree: no crash, one reload once the scan is done', async () => {
    const project = tempDir('ck-scan-');
    writeFileSync(join(project, 'app.js'), '// v1\n');
    // Enough directories that the scan lasts many event-loop turns (no CPU burnt by the test).
    for (let index = 0; index < 3000; index++) mkdirSync(join(project, `d${index}`, 'x'), { recursive: true });
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    cleanups.push(() => process.off('unhandledRejection', onRejection));
    let reloads = 0;
    const { logger } = recordingLogger();
    let opened: Watching | undefined;
    // 200 ms: the change events of saves made during the scan, which chokidar may deliver after
    // it, spread out on a loaded machine (the under-load suite: 3 reloads with 10 ms), are one.
    const opening = watchAndReload({ paths: [project], ignore: [], delayMs: 200 }, { reload: async () => void reloads++ }, project, logger);
    void opening.then((watching) => {
      opened = watching;
    });
    cleanups.push(async () => (await opening).close());
    // Saves 50 ms apart for as long as chokidar scans: those after it saw app.js are changes
    // (a save before is the content its scan reads). A fixed count was all made before it saw
    // app.js once, under load (the under-load suite): no change, no reload.
    let saves = 0;
    while (opened === undefined && saves < 1_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (opened === undefined) writeFileSync(join(project, 'app.js'), `// v${++saves + 1}\n`);
    }
    // Sanity: the scan was long enough for saves to be made during it.
    expect(saves).toBeGreaterThanOrEqual(2);
    await until(() => reloads >= 1 || rejections.length > 0, 30_000, 'the reload of the saves made during the scan');
    expect(rejections).toEqual([]);
    // Settled: the saves during the scan are one reload, not one each (two when the last one
    // landed just as the scan ended, after it was read).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(2);
  });
});

describe('symbolic links in the watched tree [H469]', () => {
  const events = (changes: string[]) => ({ change: (_event: string, path: string) => void changes.push(path), lost: () => {}, back: () => {}, replaced: () => {}, error: () => {} });

  it('[H469] a link inside the watched directory is not followed out of it; a linked root is watched under its own name', async () => {
    const base = tempDir('ck-links-');
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'deep'), { recursive: true });
    writeFileSync(join(outside, 'deep/far.js'), '// far\n');
    const shared = join(base, 'shared/src');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'lib.js'), '// lib\n');
    const project = join(base, 'app');
    mkdirSync(project);
    writeFileSync(join(project, 'app.js'), '// app\n');
    symlinkSync(outside, join(project, 'root'));
    symlinkSync('../shared/src', join(project, 'src'));

    // The project: the link `root` is an entry, nothing below it is walked or watched.
    const changes: string[] = [];
    const tree = await TreeWatcher.open([project], () => false, events(changes));
    cleanups.push(() => tree.close());
    expect(tree.files().filter((path) => path.includes('far.js') || path.includes('lib.js'))).toEqual([]);
    // Nor are the links themselves told of as added by the first scan: no reload at the start.
    expect(changes).toEqual([]);
    writeFileSync(join(outside, 'deep/far.js'), '// far 2\n');
    writeFileSync(join(project, 'app.js'), '// app 2\n');
    await until(() => changes.includes(join(project, 'app.js')), 20_000, 'the change of app.js');
    expect(changes.filter((path) => path.includes('far.js'))).toEqual([]);

    // A root the user named that is a link: watched, its paths said under its name.
    const linkedChanges: string[] = [];
    const linked = await TreeWatcher.open([join(project, 'src')], () => false, events(linkedChanges));
    cleanups.push(() => linked.close());
    expect(linked.files()).toEqual([join(project, 'src/lib.js')]);
    writeFileSync(join(shared, 'lib.js'), '// lib 2\n');
    await until(() => linkedChanges.includes(join(project, 'src/lib.js')), 20_000, 'the change of src/lib.js');
  });
});
