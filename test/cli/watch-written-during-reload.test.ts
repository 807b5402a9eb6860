/**
 * `clusterkit run --watch` with real workers: only what is written while a reload runs, and is
 * not code, the script or a watched root, is taken for the app's output and dropped (H269).
 * Before, a person saving every ~2 s, a storm of 200 files and a rebuild loop had src/app.js
 * and the modules dropped for the rest of the run, `show` still saying "watch on".
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned, type Spawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const server = (body: string) => `require('node:http').createServer((q, r) => r.end(${body})).listen(Number(process.env.PORT));\n`;

function count(run: Spawned, pattern: RegExp): number {
  return run.output().match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

/** Writes `file` whole at once: a temporary file beside it, renamed over it. */
function saveWhole(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

async function stop(run: Spawned, name: string, runtime: string): Promise<void> {
  expect((await cli(['stop', name], { runtime })).code).toBe(0);
  await expect(run.exited()).resolves.toBe(0);
}

describe('clusterkit run --watch: what is written during reloads [H269]', () => {
  it('[H269] the main script saved again while each reload runs (6 saves): never dropped, the last save served', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'src/app.cjs': server("'v0'") });
    const run = startCli(['run', 'src/app.cjs', '-w', '2', '--name', 'saves', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[saves\] watching src /);
    const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    for (let save = 1; save <= 6; save++) {
      // Saved as a reload starts: every save after the first lands during a reload (a person
      // saving every 1.5-2 s while a 2-worker reload takes as long).
      // 90 s: a generous bound (each reload waits out the 1 s startup window too, H371).
      if (save > 1) await until(() => count(run, /rolling reload started/) >= save - 1, 90_000, `reload ${save - 1} started`);
      // Written whole, then renamed into place (as many editors save): written in place, the
      // file is empty between writeFileSync's truncation and its write, and a replacement that
      // loaded it then never listened; its reload failed only after the ready and listen timeouts
      // (30 s each), and the wait for the next reload to start ran out, under load (a CI run).
      saveWhole(join(project, 'src/app.cjs'), server(`'v${save}'`));
    }
    await until(async () => (await served()) === 'v6', 30_000, 'v6 served');
    expect(run.output()).not.toMatch(/changes during a reload are ignored/);
    expect((await cli(['show', 'saves'], { runtime })).stdout).not.toMatch(/not watching/);
    await stop(run, 'saves', runtime);
  });

  it('[H269] a storm of 200 modules rewritten during reloads (a checkout storm): still watched after it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const modules = Array.from({ length: 200 }, (_, index) => `src/m${index}.js`);
    const project = tempProject({
      ...Object.fromEntries(modules.map((file) => [file, "module.exports = 'a';\n"])),
      'src/app.cjs': server("require('./m7.js')"),
    });
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'storm', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[storm\] watching src /);
    for (let round = 1; round <= 5; round++) {
      if (round > 1) await until(() => count(run, /rolling reload started/) >= round - 1, 30_000, `reload ${round - 1} started`);
      for (const file of modules) writeFileSync(join(project, file), `module.exports = '${round % 2 === 0 ? 'b' : 'a'}';\n`);
    }
    // A reload a later round superseded ends too (H388).
    await until(() => count(run, /rolling reload (complete|failed|superseded)/) >= 5, 60_000, 'the reloads of the storm');
    expect(run.output()).not.toMatch(/changes during a reload are ignored/);
    writeFileSync(join(project, 'src/m7.js'), "module.exports = 'after the storm';\n");
    await until(async () => (await fetch(`http://127.0.0.1:${port}/`).then((response) => response.text())) === 'after the storm', 30_000, 'the edit after the storm served');
    await stop(run, 'storm', runtime);
  });

  it('[H269] an app that writes a text file under the watched directory at each start: still named and dropped, and show says so', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const app = (version: string) => `require('node:fs').appendFileSync(__dirname + '/started.txt', process.pid + '\\n');\n${server(`'${version}'`)}`;
    const project = tempProject({ 'src/app.cjs': app('v1') });
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'writer', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[writer\] watching src /);
    writeFileSync(join(project, 'src/app.cjs'), app('v2'));
    await run.waitFor(/WARN src\/started\.txt was written while each of the last 3 reloads ran, [^\n]*From now on, its changes during a reload are ignored/);
    const show = await cli(['show', 'writer'], { runtime });
    expect(show.stdout).toMatch(
      /watch\s+on: \S*\/src; changes during reloads ignored: \S*\/src\/started\.txt \(written while each of 3 reloads in a row ran, as an app's output is; a change at another time watches it again\); a reload/,
    );
    const json = JSON.parse((await cli(['show', 'writer', '--json'], { runtime })).stdout) as { settings: { watch: { dropped: string[] } } };
    expect(json.settings.watch.dropped).toEqual([join(project, 'src/started.txt')]);
    // The code is still watched.
    writeFileSync(join(project, 'src/app.cjs'), app('v3'));
    await until(async () => (await fetch(`http://127.0.0.1:${port}/`).then((response) => response.text())) === 'v3', 30_000, 'v3 served');
    await stop(run, 'writer', runtime);
  });
  it('[H269] [H289] an app that writes a JSON file at each start: still watched (code or config), named once with the way out, listed by show, backed off', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const app = (version: string) => `require('node:fs').writeFileSync(__dirname + '/state.json', JSON.stringify({ pid: process.pid }));\n${server(`'${version}'`)}`;
    const project = tempProject({ 'src/app.cjs': app('v1') });
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'stater', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[stater\] watching src /);
    writeFileSync(join(project, 'src/app.cjs'), app('v2'));
    await run.waitFor(/WARN src\/state\.json was written while each of the last 5 reloads ran, and each write reloaded again\. Still watching it, as code or config; if the app itself writes it at start \(a state file, generated code\), add --ignore-watch src\/state\.json/);
    // Still a loop (it is not dropped), but said once.
    const reloads = count(run, /rolling reload complete/);
    await until(() => count(run, /rolling reload complete/) >= reloads + 3, 60_000, 'three more reloads');
    expect(count(run, /Still watching it, as code or config/)).toBe(1);
    expect(run.output()).not.toMatch(/changes during a reload are ignored/);
    // [H289] show says it reloads again and again (it said "watch on" and nothing more).
    const show = await cli(['show', 'stater'], { runtime });
    expect(show.stdout).toMatch(/watch\s+on: \S*\/src; reloading again and again: \S*\/src\/state\.json \(written during each of the last \d+ reloads\); a reload/);
    const json = JSON.parse((await cli(['show', 'stater', '--json'], { runtime })).stdout) as { settings: { watch: { looping: Array<{ path: string; reloads: number }> } } };
    expect(json.settings.watch.looping).toEqual([{ path: join(project, 'src/state.json'), reloads: expect.any(Number) }]);
    expect(json.settings.watch.looping[0]!.reloads).toBeGreaterThanOrEqual(5);
    expect(run.output()).toMatch(/src\/state\.json keeps reloading the workers: each reload that only it starts now waits twice as long/);
    await stop(run, 'stater', runtime);
  });

  it('[H288] a .sql file saved while each of 3 reloads ran is dropped; saved again while no reload runs, it reloads and is served', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // The tester's shape: a view the server reads at start, saved by hand along with reloads.
    const project = tempProject({ 'src/app.cjs': `const sql = require('node:fs').readFileSync(__dirname + '/q.sql', 'utf8').trim();\n${server('sql')}`, 'src/q.sql': 'v0\n' });
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'sql', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[sql\] watching src /);
    for (let save = 1; save <= 4; save++) {
      // The first save while idle, each of the next while the reload before runs.
      // 90 s: a generous bound (each reload waits out the 1 s startup window too, H371). The app
      // reads q.sql at start: one read half-written still listens, unlike the script's (test 1).
      if (save > 1) await until(() => count(run, /rolling reload started/) >= save - 1, 90_000, `reload ${save - 1} started`);
      writeFileSync(join(project, 'src/q.sql'), `v${save}\n`);
    }
    await run.waitFor(/WARN src\/q\.sql was written while each of the last 3 reloads ran, and each write reloaded again, as an app's output would be [^\n]*a change at any other time reloads and watches it fully again/);
    expect(run.output()).not.toMatch(/written by the app/);
    expect((await cli(['show', 'sql'], { runtime })).stdout).toMatch(/changes during reloads ignored: \S*\/src\/q\.sql/);
    await until(() => count(run, /rolling reload (complete|failed|superseded)/) === count(run, /rolling reload started/), 30_000, 'the last reload over');
    // A person's save, not the reload's own echo (H511): well past 1 s after the reload's end.
    const overAt = Date.now();
    await until(() => Date.now() - overAt > 1_500, 10_000, 'past the echo of the last reload');
    writeFileSync(join(project, 'src/q.sql'), 'by hand\n');
    await run.waitFor(/src\/q\.sql changed while no reload ran \(a person or a tool\): watching it fully again/);
    // A request may meet the worker being replaced (1 worker): asked again.
    const served = () => fetch(`http://127.0.0.1:${port}/`).then((response) => response.text(), () => '');
    await until(async () => (await served()) === 'by hand', 30_000, 'the save served');
    expect((await cli(['show', 'sql'], { runtime })).stdout).not.toMatch(/changes during reloads ignored/);
    await stop(run, 'sql', runtime);
  });
});
