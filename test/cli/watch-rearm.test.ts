/**
 * `--watch` keeps watching when a watched directory is deleted, replaced, or moved away and
 * back (`rimraf dist && tsc`, `git checkout`, `mv src src.bak; mv src.bak src`) (H256). Before,
 * chokidar stayed on the deleted directory: the first rebuild reloaded, no later edit did, and
 * nothing said so. Real chokidar on real directories, the cluster replaced by a recorder of
 * reload calls; then the whole CLI with real workers.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { watchAndReload, type Watching } from '../../src/cli/watch/watch-reload.js';
import { TreeWatcher } from '../../src/cli/watch/tree-watcher.js';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { recordingLogger } from '../helpers/captured-logger.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  killSpawned();
  cleanUpCli();
});

/** A project with `dist/server.js` and `dist/lib/util.js`, watching `dist` (or the project). */
async function watchedBuild(watchRoot: 'dist' | '.'): Promise<{ project: string; reloads: () => number; lines: string[]; watching: Watching }> {
  const project = mkdtempSync(join(tmpdir(), 'ck-rearm-'));
  cleanups.push(() => rmSync(project, { recursive: true, force: true }));
  build(project, 1);
  let reloads = 0;
  const { logger, lines } = recordingLogger();
  const root = watchRoot === 'dist' ? join(project, 'dist') : project;
  const watching = await watchAndReload({ paths: [root], ignore: [], delayMs: 50 }, { reload: async () => void reloads++ }, project, logger);
  cleanups.push(() => watching.close());
  return { project, reloads: () => reloads, lines, watching };
}

/** What `rm -rf dist && tsc` does: the directory goes, and a new one is written at once. */
function build(project: string, version: number): void {
  rmSync(join(project, 'dist'), { recursive: true, force: true });
  mkdirSync(join(project, 'dist/lib'), { recursive: true });
  writeFileSync(join(project, 'dist/server.js'), `// build ${version}\n`);
  writeFileSync(join(project, 'dist/lib/util.js'), `// build ${version}\n`);
}

/** Edits a file and waits for the reload it makes. */
async function editReloads(file: string, reloads: () => number, what: string): Promise<void> {
  const before = reloads();
  writeFileSync(file, `// ${what}\n`);
  await until(() => reloads() > before, 20_000, `the reload after ${what}`);
}

describe('watch across directories deleted and made again [H256]', () => {
  it('[H256] a watched root removed, then made again: a WARN says it is gone, its return reloads, and later edits reload', async () => {
    const { project, reloads, lines, watching } = await watchedBuild('dist');
    rmSync(join(project, 'dist'), { recursive: true });
    await until(() => lines.some((line) => line.startsWith('warn dist is gone')), 20_000, 'the warning');
    expect(lines.find((line) => line.startsWith('warn dist is gone'))).toBe(
      'warn dist is gone (removed or moved away): no change in it reloads the workers until it returns. It is looked for every 0.5 s and watched again, with a reload, ' +
        'once it returns (a rebuild, a checkout, moving it back); to watch another path, restart clusterkit run with --watch <path>.',
    );
    expect(watching.missing()).toEqual([join(project, 'dist')]);
    const beforeReturn = reloads();
    build(project, 2);
    await until(() => reloads() > beforeReturn, 20_000, 'the reload at its return');
    expect(lines).toContain('info dist is back: watching again');
    expect(watching.missing()).toEqual([]);
    // Watched again: each edit reloads, in the root and below it.
    await editReloads(join(project, 'dist/server.js'), reloads, 'edit 1');
    await editReloads(join(project, 'dist/lib/util.js'), reloads, 'edit 2');
  });

  it.each([['dist' as const], ['.' as const]])('[H256] a rebuild that replaces the directory at once (watching %s): every later edit still reloads', async (root) => {
    const { project, reloads } = await watchedBuild(root);
    for (const version of [2, 3, 4]) {
      build(project, version);
      // The rebuild's own reload: a directory replaced in one go may give chokidar no event, and
      // the poll of the root then tells of it (H270).
      const before = reloads();
      await until(() => reloads() > before, 20_000, `the reload of build ${version}`);
      await editReloads(join(project, `dist/lib/edit-${version}.js`), reloads, `an edit after build ${version}`);
    }
  });

  it('[H256] a watched root moved away and back (mv src src.bak; mv src.bak src): later edits reload', async () => {
    const { project, reloads, lines } = await watchedBuild('dist');
    renameSync(join(project, 'dist'), join(project, 'dist.bak'));
    await until(() => lines.some((line) => line.startsWith('warn dist is gone')), 20_000, 'the warning');
    renameSync(join(project, 'dist.bak'), join(project, 'dist'));
    await until(() => lines.includes('info dist is back: watching again'), 20_000, 'its return');
    await editReloads(join(project, 'dist/server.js'), reloads, 'an edit');
    await editReloads(join(project, 'dist/server.js'), reloads, 'a second edit');
  });
});

describe('a root made again in one go, and its return [H270] [H272]', () => {
  it.each([[1], [2], [3]])('[H270] a root replaced in one go that gives chokidar no event (only a dot file in it before) reloads (try %i)', async () => {
    const project = mkdtempSync(join(tmpdir(), 'ck-replaced-'));
    cleanups.push(() => rmSync(project, { recursive: true, force: true }));
    const dist = join(project, 'dist');
    mkdirSync(dist);
    writeFileSync(join(dist, '.gitkeep'), '');
    let reloads = 0;
    const { logger, lines } = recordingLogger();
    const watching = await watchAndReload({ paths: [dist], ignore: [], delayMs: 50 }, { reload: async () => void reloads++ }, project, logger, { script: 'dist/server.js' });
    cleanups.push(() => watching.close());
    // `rm -rf dist; mkdir dist`, then a compiler that takes 0.1 s to write: chokidar's watch
    // stays on the old directory, whose one entry is ignored, so it tells of nothing (unless the
    // 0.5 s poll re-armed within those 0.1 s: hence a few tries).
    rmSync(dist, { recursive: true });
    mkdirSync(dist);
    writeFileSync(join(dist, '.gitkeep'), '');
    await new Promise((resolve) => setTimeout(resolve, 100));
    writeFileSync(join(dist, 'server.js'), '// build 2\n');
    await until(() => reloads > 0, 20_000, 'the reload of the build');
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    expect(watching.dropped()).toEqual([]);
  });

  it('[H272] a root moved away and back: one "is back" line per return, and the "gone" line does not read as one', async () => {
    const { project, lines } = await watchedBuild('dist');
    for (let cycle = 1; cycle <= 3; cycle++) {
      renameSync(join(project, 'dist'), join(project, 'dist.bak'));
      await until(() => lines.filter((line) => line.startsWith('warn dist is gone')).length === cycle, 20_000, `gone ${cycle}`);
      renameSync(join(project, 'dist.bak'), join(project, 'dist'));
      await until(() => lines.filter((line) => line === 'info dist is back: watching again').length === cycle, 20_000, `back ${cycle}`);
    }
    // What `grep -c 'is back'` counts: the returns, not the warnings too (PM2 retester t29 N10a: 104 for 52).
    expect(lines.filter((line) => line.includes('is back'))).toHaveLength(3);
  });
});

describe('clusterkit run --watch across a rebuild [H256]', () => {
  it('[H256] the watched directory deleted: a WARN and show say so; made again with new code: reloaded; edited again: reloaded again', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const server = (version: number) => `require('node:http').createServer((q, r) => r.end('build ${version}')).listen(Number(process.env.PORT));\n`;
    const project = tempProject({ 'dist/server.cjs': server(1) });
    const run = startCli(['run', 'dist/server.cjs', '-w', '2', '--name', 'rebuilt', '--watch', 'dist', '--watch-delay', '50ms'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[rebuilt\] watching dist /);
    const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(await served()).toBe('build 1');

    rmSync(join(project, 'dist'), { recursive: true });
    await run.waitFor(/\[rebuilt\] WARN dist is gone \(removed or moved away\): no change in it reloads the workers until it returns\. [^\n]* err=ERR_WATCH_LOST/);
    // Root and script gone: no reload that could only fail, it waits for the return (H290).
    await run.waitFor(/\[rebuilt\] dist is gone, and dist\/server\.cjs, the script being run, with it: the reload waits for it to come back/);
    const show = await cli(['show', 'rebuilt'], { runtime });
    expect(show.stdout).toMatch(/watch\s+not watching: \S*\/dist is gone \(removed or moved away\), watched again once back/);
    expect(show.stdout).not.toMatch(/watch\s+on:/);

    mkdirSync(join(project, 'dist'));
    writeFileSync(join(project, 'dist/server.cjs'), server(2));
    await run.waitFor(/\[rebuilt\] dist is back: watching again/);
    await run.waitFor(/rolling reload complete replaced=2/);
    await until(async () => (await served()) === 'build 2', 20_000, 'build 2 served');
    expect(run.output()).not.toMatch(/rolling reload failed/);
    expect((await cli(['show', 'rebuilt'], { runtime })).stdout).toMatch(/watch\s+on: \S*\/dist;/);

    writeFileSync(join(project, 'dist/server.cjs'), server(3));
    await run.waitFor(/\[rebuilt\] change detected in dist\/server\.cjs: reloading/);
    await run.waitFor(/(rolling reload complete replaced=2[^]*){2}/);
    await until(async () => (await served()) === 'build 3', 20_000, 'build 3 served');
    expect((await cli(['stop', 'rebuilt'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});

describe('a change handler that throws [H268]', () => {
  // Before: a throw from the change handler went up through chokidar's listener and ended
  // clusterkit run with every worker (PM2 retester t29 N2: with stdout in a file, a change's
  // path was stat'ed, and `rm -rf src/utils; echo x > src/utils` made the stat throw ENOTDIR).
  it('[H268] is reported as a watch error, and the changes after it are still seen', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ck-throwing-handler-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const errors: Error[] = [];
    const changes: string[] = [];
    const tree = await TreeWatcher.open([root], () => false, {
      change(_event, path) {
        changes.push(path);
        if (changes.length === 1) throw Object.assign(new Error("ENOTDIR: not a directory, stat 'x/a.js'"), { code: 'ENOTDIR' });
      },
      lost: () => {},
      back: () => {},
      replaced: () => {},
      error: (error) => errors.push(error),
    });
    cleanups.push(() => tree.close());
    writeFileSync(join(root, 'a.js'), 'a\n');
    await until(() => errors.length === 1, 20_000, 'the error reported');
    expect(errors[0]!.message).toContain('ENOTDIR');
    writeFileSync(join(root, 'b.js'), 'b\n');
    await until(() => changes.some((path) => path.endsWith('b.js')), 20_000, 'the next change');
  });
});
