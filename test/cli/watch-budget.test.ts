/**
 * How much of a tree `--watch` takes on (H650). Hostile tester t64b wrote 50,000 files, then
 * 50,000 more, under a watched directory and deleted them: chokidar, watching each file on its
 * own, grew the primary to 3 GB and blocked it for seconds at a time, until only `kill -9` ended
 * it; the warnings blamed the user's code. Real chokidar on real directories; the cluster
 * replaced by a recorder of reload calls.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { TreeWatcher, type TreeWatcherEvents } from '../../src/cli/watch/tree-watcher.js';
import { kMaxDirectoryEntries, WatchBudget, type LeftOut } from '../../src/cli/watch/watch-budget.js';
import { watchAndReload } from '../../src/cli/watch/watch-reload.js';
import { kWatchIntake, OwnWork, ownWorkWithin, processOwnWork } from '../../src/primary/lifecycle/own-work.js';
import { PrimaryBlockedError } from '../../src/errors.js';
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

function writeFiles(directory: string, count: number): void {
  mkdirSync(directory, { recursive: true });
  for (let index = 0; index < count; index++) writeFileSync(join(directory, `f${index}.txt`), 'x');
}

describe('the budget of a watch [H650]', () => {
  it('[H650] a directory past its entries is left out, with all below it; a root and the directories on the way to the script never are', () => {
    const budget = new WatchBudget(['/p', '/p/named'], ['/p/gen/app.js'], { maxDirectoryEntries: 3, maxEntries: 100 });
    for (const name of ['a', 'b', 'c']) expect(budget.isLeftOut(`/p/data/${name}`)).toBe(false);
    // Asked again: the same answer, not counted twice.
    expect(budget.isLeftOut('/p/data/a')).toBe(false);
    expect(budget.take()).toEqual({ directories: [], full: [] });
    expect(budget.isLeftOut('/p/data/d')).toBe(true);
    expect(budget.isLeftOut('/p/data/a')).toBe(true);
    expect(budget.isLeftOut('/p/data/deep/x')).toBe(true);
    expect(budget.isLeftOut('/p/data')).toBe(true);
    expect(budget.take()).toEqual({ directories: ['/p/data'], full: [] });
    expect(budget.take()).toEqual({ directories: [], full: [] });
    expect(budget.leftOut()).toEqual(['/p/data']);
    // A root, and the script's directory, hold any number.
    for (let index = 0; index < 10; index++) {
      expect(budget.isLeftOut(`/p/f${index}`)).toBe(false);
      expect(budget.isLeftOut(`/p/named/f${index}`)).toBe(false);
      expect(budget.isLeftOut(`/p/gen/f${index}`)).toBe(false);
    }
    // A new scan counts again from none; a directory left out stays out.
    budget.reset();
    expect(budget.size).toBe(0);
    expect(budget.isLeftOut('/p/data/a')).toBe(true);
    expect(budget.isLeftOut('/p/other/a')).toBe(false);
  });

  it('[H650] past the total, new entries are not watched, said once per directory; entries gone make room again', () => {
    const budget = new WatchBudget(['/p'], [], { maxDirectoryEntries: 100, maxEntries: 4 });
    expect(['/p/a', '/p/a/1', '/p/a/2', '/p/b'].map((path) => budget.isLeftOut(path))).toEqual([false, false, false, false]);
    expect(budget.isLeftOut('/p/a/3')).toBe(true);
    expect(budget.isLeftOut('/p/a/4')).toBe(true);
    expect(budget.isLeftOut('/p/c')).toBe(true);
    // An entry of a root is named itself: "new entries in ." told nothing of a rebuilt dist (watch tester t65).
    expect(budget.take()).toEqual({ directories: [], full: ['/p/a', '/p/c'] });
    expect(budget.isLeftOut('/p/a/5')).toBe(true);
    expect(budget.take().full).toEqual([]);
    expect(budget.full()).toEqual(['/p/a', '/p/c']);
    // A directory gone frees its entries and those below it: room again, said once.
    budget.forget('/p/a');
    expect(budget.full()).toEqual([]);
    expect(budget.takeRoom()).toBe(true);
    expect(budget.takeRoom()).toBe(false);
    expect(budget.size).toBe(1);
    expect(budget.isLeftOut('/p/a/3')).toBe(false);
    // Still watched: what was taken on before the total was reached.
    expect(budget.isLeftOut('/p/b')).toBe(false);
    // Full again after the room was made: said again (hostile t65: a second storm was not).
    for (const path of ['/p/a', '/p/a/3', '/p/a/4']) expect(budget.isLeftOut(path)).toBe(false);
    expect(budget.isLeftOut('/p/a/6')).toBe(true);
    expect(budget.take().full).toEqual(['/p/a']);
  });

  it('[H650] a directory written past the limit is left out: told once, its files no change, its deletion no change; other files still are', async () => {
    const root = tempDir('ck-budget-tree-');
    writeFileSync(join(root, 'app.js'), '// v1\n');
    const changes: string[] = [];
    const limited: LeftOut[] = [];
    const errors: Error[] = [];
    const events: TreeWatcherEvents = {
      change: (_event, path) => void changes.push(path),
      lost: () => {},
      back: () => {},
      replaced: () => {},
      error: (error) => errors.push(error),
      limited: (leftOut) => void limited.push(leftOut),
    };
    const tree = await TreeWatcher.open([root], () => false, events, { limits: { maxDirectoryEntries: 50 } });
    cleanups.push(() => tree.close());
    const data = join(root, 'data');
    writeFiles(data, 300);
    await until(() => limited.length > 0, 30_000, 'the data directory left out');
    expect(limited).toEqual([{ directories: [data], full: [] }]);
    expect(tree.leftOut).toEqual([data]);
    // A later write there is no change, app.js's still is.
    changes.length = 0;
    writeFileSync(join(data, 'f1.txt'), 'y');
    writeFileSync(join(data, 'new.txt'), 'y');
    writeFileSync(join(root, 'app.js'), '// v2\n');
    await until(() => changes.includes(join(root, 'app.js')), 20_000, 'the change of app.js');
    rmSync(data, { recursive: true });
    // Saved until seen: chokidar drops a second change of a path within 50 ms of the one before
    // (its `_throttle`), and the save above may have been told just now.
    const seen = changes.length;
    for (let save = 3; !changes.slice(seen).includes(join(root, 'app.js')); save++) {
      writeFileSync(join(root, 'app.js'), `// v${save}\n`);
      await until(() => changes.slice(seen).includes(join(root, 'app.js')), 100, 'the next change of app.js').catch(() => expect(save).toBeLessThan(200));
    }
    expect(changes.filter((path) => path.startsWith(data))).toEqual([]);
    expect(tree.files().filter((path) => path.startsWith(data))).toEqual([]);
    expect(limited).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('[H650] a storm of paths taken in is noted as clusterkit\'s own work, which a report of the blocked primary names', async () => {
    const root = tempDir('ck-budget-intake-');
    const tree = await TreeWatcher.open([root], () => false, { change: () => {}, lost: () => {}, back: () => {}, replaced: () => {}, error: () => {} });
    cleanups.push(() => tree.close());
    const startAt = Date.now();
    writeFiles(join(root, 'many'), 1_500);
    await until(() => ownWorkWithin([processOwnWork], startAt, Date.now())?.kind === kWatchIntake, 30_000, 'the intake noted');
    // The report of a block during it: the watch named, with its way out, not the user's code.
    const own = ownWorkWithin([new OwnWork(), processOwnWork], startAt, Date.now())!;
    const error = new PrimaryBlockedError(own.ms, own.ms, false, { ms: own.ms, ...own.kind });
    expect(error.message).toContain('taking in a storm of file changes under the paths --watch watches');
    expect(error.message).toContain('--ignore-watch');
    expect(error.message).not.toContain('Move long synchronous work');
    expect(error.ownWorkMs).toBe(Math.round(own.ms));
  });
});

describe('after a storm [H654]', () => {
  it('[H654] the watcher is made again once a storm is over, said once; a directory the storm deleted and made again is watched', async () => {
    const root = tempDir('ck-recrawl-');
    writeFileSync(join(root, 'app.js'), '// v1\n');
    const changes: string[] = [];
    const recrawls: number[] = [];
    const errors: Error[] = [];
    const tree = await TreeWatcher.open(
      [root],
      () => false,
      { change: (_event, path) => void changes.push(path), lost: () => {}, back: () => {}, replaced: () => {}, error: (error) => errors.push(error), recrawled: (count) => void recrawls.push(count) },
      { limits: { recrawlPaths: 100 } },
    );
    cleanups.push(() => tree.close());
    const cache = join(root, 'cache');
    for (let index = 0; index < 4; index++) writeFiles(join(cache, `d${index}`), 100);
    await until(() => recrawls.length === 1, 30_000, 'the watcher made again after the storm');
    expect(recrawls[0]).toBeGreaterThanOrEqual(100);
    // The storm deleted, its directory made again: a file in it is a change (watch tester t65:
    // after 40,000 files deleted, the directory made again was never watched again).
    rmSync(cache, { recursive: true });
    await until(() => recrawls.length === 2, 30_000, 'the watcher made again after the delete');
    changes.length = 0;
    mkdirSync(cache);
    for (let save = 0; !changes.includes(join(cache, 'mod.js')); save++) {
      writeFileSync(join(cache, 'mod.js'), `// v${save}\n`);
      await until(() => changes.includes(join(cache, 'mod.js')), 100, 'the change in the directory made again').catch(() => expect(save).toBeLessThan(200));
    }
    // One look per storm: none after its own scan.
    expect(recrawls).toHaveLength(2);
    expect(errors).toEqual([]);
  });
});

describe('watchAndReload with a directory too big to watch [H650]', () => {
  it('[H650] says it once with both ways out, drops its pending changes, lists it for show; the script in a big directory still reloads', async () => {
    const project = tempDir('ck-budget-run-');
    // The script lives in a generated directory of many files: never left out.
    const gen = join(project, 'gen');
    writeFiles(gen, kMaxDirectoryEntries + 10);
    writeFileSync(join(gen, 'server.js'), '// v1\n');
    writeFileSync(join(project, 'lib.js'), '// v1\n');
    const { logger, lines } = recordingLogger();
    const reloads: number[] = [];
    const watching = await watchAndReload({ paths: [project], ignore: [], delayMs: 300 }, { reload: async () => void reloads.push(Date.now()) }, project, logger, { script: join(gen, 'server.js') });
    cleanups.push(() => watching.close());
    writeFiles(join(project, 'uploads'), kMaxDirectoryEntries + 100);
    await until(() => lines.some((line) => line.includes('uploads: it holds more than')), 60_000, 'the warning about uploads');
    const warning = lines.find((line) => line.includes('uploads: it holds more than'))!;
    expect(warning).toMatch(/^warn uploads: it holds more than 2000 entries, as data or output does/);
    expect(warning).toContain('left out of the watch for the rest of this run');
    expect(warning).toContain('name it among the watched paths (--watch . uploads)');
    expect(warning).toContain('add --ignore-watch uploads');
    expect(watching.largeDirectories()).toEqual([join(project, 'uploads')]);
    // Whatever reload its first files started has ended; no reload is left pending for it.
    await until(() => reloads.length === 0 || Date.now() - reloads.at(-1)! > 1_500, 30_000, 'the storm settled');
    const settled = reloads.length;
    writeFileSync(join(project, 'uploads', 'later.txt'), 'x');
    writeFileSync(join(gen, 'server.js'), '// v2\n');
    await until(() => reloads.length > settled, 30_000, 'the reload of the script');
    const line = lines.filter((entry) => entry.includes('change detected')).at(-1)!;
    expect(line).toContain('gen/server.js');
    expect(line).not.toContain('uploads');
    expect(lines.filter((entry) => entry.includes('holds more than'))).toHaveLength(1);
  });
});
