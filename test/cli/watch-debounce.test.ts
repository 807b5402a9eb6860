/**
 * The watch debounce has a maximum wait: a file written without pause in a watched directory
 * cannot put a reload off forever, and it is named once with the way out (--ignore-watch).
 * Real chokidar on a real directory; the cluster is replaced by a recorder of reload calls
 * (watch.test.ts runs the whole CLI under load).
 */
import { appendFileSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Logger } from '../../src/logger.js';
import { kReloadLoopCount, maxWatchWaitMs, reloadLoopDetector, watchAndReload } from '../../src/cli/watch/watch-reload.js';
import { createIgnoreTest } from '../../src/cli/watch/watch-ignore.js';
import { until } from '../helpers/wait.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: object, message?: string) => lines.push(`${level} ${message ?? ''}`);
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

async function watchedProject(delayMs: number, duringReload: (directory: string) => Promise<void> = async () => {}) {
  const directory = mkdtempSync(join(tmpdir(), 'ck-watch-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  writeFileSync(join(directory, 'server.js'), '// v1\n');
  const reloads: number[] = [];
  const { logger, lines } = recordingLogger();
  const reload = async () => {
    reloads.push(Date.now());
    await duringReload(directory);
  };
  const watching = await watchAndReload({ paths: [directory], ignore: [], delayMs }, { reload }, directory, logger);
  cleanups.push(() => watching.close());
  return { directory, reloads, lines };
}

describe('watch debounce', () => {
  it('waits at most max(1 s, 3 × the delay)', () => {
    expect(maxWatchWaitMs(300)).toBe(1_000);
    expect(maxWatchWaitMs(2_000)).toBe(6_000);
  });

  it('reloads once after a quiet delay, without a warning', async () => {
    const { directory, reloads, lines } = await watchedProject(200);
    writeFileSync(join(directory, 'server.js'), '// v2\n');
    await until(() => reloads.length === 1, 10_000, 'the reload');
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    expect(lines.at(-1)).toBe('info change detected in server.js: reloading the workers one by one');
  });

  it('reloads even while a file is written without pause, and names that file once', async () => {
    const { directory, reloads, lines } = await watchedProject(400);
    // Every 40 ms: never the 400 ms of quiet a plain debounce waits for.
    let writes = 0;
    const writer = setInterval(() => writeFileSync(join(directory, 'busy.db'), `${writes++}\n`), 40);
    cleanups.push(() => clearInterval(writer));
    writeFileSync(join(directory, 'server.js'), '// v2\n');
    await until(() => reloads.length >= 2, 20_000, 'two reloads while busy.db is being written');
    expect(lines).toContainEqual(expect.stringMatching(/^info change detected in (server\.js, busy\.db|busy\.db, server\.js)/));
    const warnings = lines.filter((line) => line.startsWith('warn'));
    // Under a heavy load the writer may pause long enough for a plain quiet reload; then no warning is due.
    expect(warnings.length).toBeLessThanOrEqual(1);
    if (warnings.length === 1) {
      expect(warnings[0]).toBe(
        'warn busy.db kept changing for 1200 ms without a quiet 400 ms: reloading anyway; if they are not code, leave them out with --ignore-watch (ignoreWatch in the config file)',
      );
    }
  });

  it('[H99] names a file the reload itself writes (clusterkit logs -f > debug.txt), once, and stops reloading for it', async () => {
    // What `clusterkit logs -f > debug.txt` in the project does: each reload's log lines land in
    // debug.txt. The reload returns once the write is seen, as the real one ends after its lines.
    const { directory, reloads, lines } = await watchedProject(200, (root) => appendDebugLine(join(root, 'debug.txt')));
    writeFileSync(join(directory, 'server.js'), '// v2\n');
    await until(() => lines.some((line) => line.startsWith('warn')), 20_000, 'the reload loop warning');
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([
      `warn debug.txt changed during or just after each of the last ${kReloadLoopCount} reloads, and each change reloaded again: ` +
        'written by the app or its output (a log, a database, a redirect such as clusterkit logs -f > debug.txt), not code. ' +
        'No longer watching it until clusterkit run restarts; to leave it out for good, add --ignore-watch debug.txt ' +
        '(ignoreWatch: ["debug.txt"] in the config file)',
    ]);
    // The edit, then one reload for each of the loop's first changes (more if a loaded machine
    // delayed a change past the loop's gap); the next one was skipped.
    expect(reloads.length).toBeGreaterThanOrEqual(kReloadLoopCount);
    const warnedAt = lines.length;
    const reloadsAtWarning = reloads.length;
    // Code is still watched, and debug.txt (written again by each reload) no longer reloads.
    for (const version of [3, 4]) {
      writeFileSync(join(directory, 'server.js'), `// v${version}\n`);
      await until(() => reloads.length >= reloadsAtWarning + version - 2, 20_000, `the reload for v${version}`);
    }
    const changes = lines.slice(warnedAt).filter((line) => line.includes('change detected'));
    expect(changes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(changes)).toEqual(new Set(['info change detected in server.js: reloading the workers one by one']));
  });

  it('[H99] counts a path only for reloads that came right after the previous one', () => {
    const detector = reloadLoopDetector(1_000);
    // A person saving server.js after each reload has settled: never a loop.
    for (let reload = 0; reload < 10; reload++) {
      expect(detector.next(['/app/server.js'], reload * 10_000)).toEqual([]);
      detector.ended(reload * 10_000 + 2_000);
    }
    // debug.txt changes in every reload: the third reload in a row that it starts is the loop.
    const looping: string[][] = [];
    for (let reload = 0; reload < kReloadLoopCount + 1; reload++) {
      looping.push(detector.next(['/app/debug.txt'], 200_000 + reload * 3_000));
      detector.ended(200_000 + reload * 3_000 + 2_500);
    }
    expect(looping).toEqual([[], [], [], ['/app/debug.txt']]);
  });
});

describe('editor files and save storms [H257]', () => {
  it('[H257] ignores the files editors write beside the edited one, and nothing that looks like code', () => {
    const ignored = createIgnoreTest(['/app'], [], '/app');
    const cases: Array<[string, boolean]> = [
      ['/app/src/#app.js#', true],
      ['/app/src/.#app.js', true],
      ['/app/src/4913', true],
      ['/app/src/5036', true],
      ['/app/src/app.js.swp', true],
      ['/app/src/app.js.swx', true],
      ['/app/src/app.js~', true],
      ['/app/src/app.js___jb_tmp___', true],
      ['/app/src/app.js___jb_old___', true],
      ['/app/.DS_Store', true],
      ['/app/src/app.js', false],
      ['/app/src/4914', false],
      ['/app/src/#hash.js', false],
      ['/app/src/swap.js', false],
      ['/app/posts/2024/index.js', false],
    ];
    expect(cases.map(([path]) => [path, ignored(path)])).toEqual(cases);
  });

  it('[H257] an Emacs auto-save, a Vim write probe and a JetBrains safe write reload nothing; the save itself reloads once', async () => {
    const { directory, reloads, lines } = await watchedProject(100);
    // Left in place: chokidar drops a file made and removed within 100 ms (its `atomic` option).
    for (const temporary of ['#server.js#', '4913', 'server.js___jb_tmp___', 'server.js.swp']) writeFileSync(join(directory, temporary), 'x');
    writeFileSync(join(directory, 'server.js'), '// v2\n');
    await until(() => reloads.length === 1, 10_000, 'the reload of the save');
    expect(lines.filter((line) => line.includes('change detected'))).toEqual(['info change detected in server.js: reloading the workers one by one']);
  });

  it('[H257] a code file saved without pause is named without the advice to leave it out; a temporary file beside it is offered alone', async () => {
    const { directory, reloads, lines } = await watchedProject(400);
    let writes = 0;
    // What 30 `sed -i` saves in a row do: the code file, and sed's temporary file beside it.
    const writer = setInterval(() => {
      writeFileSync(join(directory, 'sedT5W9k'), `${writes}\n`);
      writeFileSync(join(directory, 'server.js'), `// ${writes++}\n`);
    }, 40);
    cleanups.push(() => clearInterval(writer));
    await until(() => reloads.length >= 1 && lines.some((line) => line.startsWith('warn')), 20_000, 'the reload and its warning');
    clearInterval(writer);
    const [warning] = lines.filter((line) => line.startsWith('warn'));
    expect(warning).toMatch(/^warn (server\.js, sedT5W9k|sedT5W9k, server\.js) kept changing for 1200 ms without a quiet 400 ms: reloading anyway; if sedT5W9k is not code, leave it out with --ignore-watch/);
    expect(warning).not.toMatch(/if they are not code/);
  });
});

/** Appends a line and resolves once the directory reports the change (an event, not a sleep). */
function appendDebugLine(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(join(file, '..'), (_event, name) => {
      if (name !== 'debug.txt') return;
      watcher.close();
      resolve();
    });
    cleanups.push(() => watcher.close());
    appendFileSync(file, 'rolling reload complete\n');
  });
}
