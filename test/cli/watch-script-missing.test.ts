/**
 * `clusterkit run dist/server.js --watch dist`: while the script being run does not exist, the
 * watch starts no reload, as it could only fail with `Cannot find module` (H271, H520). Before,
 * only a forced reload (the maximum wait) waited for it: the folder back empty after
 * `rm -rf dist; sleep 3; mkdir dist`, a plain `rm dist/server.js` before a copy, and a change
 * queued during another reload each reloaded at the quiet time, and the reload failed (an ERROR,
 * the old workers serving on). Real workers, real files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned, type Spawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';
import { occurrencesAfter } from './occurrences-after.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const missingLine = (script = 'dist/server.js') => `[w4] ${script}, the script being run, does not exist now (a build under way?): the reload waits for it to be written`;
/** What the reload that should not start ends with, or the line that says it waits: whichever comes first. */
const kWaitOrFailure = /does not exist now|rolling reload failed/;

/**
 * The build's files: the server serves what dist/lib.js says. With `listenAfterMs`, it says it
 * loaded, and listens that much later: its replacement is still starting meanwhile.
 */
const lib = (build: string) => `module.exports = { body: '${build}' };\n`;
const server = (listenAfterMs = 0) =>
  [
    "const { body } = require('./lib.js');",
    "const listen = () => require('node:http').createServer((q, r) => r.end(body)).listen(Number(process.env.PORT), '127.0.0.1');",
    listenAfterMs === 0 ? 'listen();' : `console.log(\`\${body} loaded\`); setTimeout(listen, ${listenAfterMs});`,
    '',
  ].join('\n');

/** `clusterkit run dist/server.js -w 2 --watch dist --name w4`, serving build 1. */
async function started(): Promise<{ run: Spawned; project: string; runtime: string; served: () => Promise<string> }> {
  const runtime = runtimeDir();
  const port = await freePort();
  const project = tempProject({ 'dist/server.js': server(), 'dist/lib.js': lib('build 1') });
  const run = startCli(['run', 'dist/server.js', '-w', '2', '--watch', 'dist', '--name', 'w4', '--watch-delay', '100ms'], { runtime, cwd: project, env: { PORT: String(port) } });
  await run.waitFor(/\[w4\] watching dist /);
  const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
  expect(await served()).toBe('build 1');
  return { run, project, runtime, served };
}

/** Writes the build (the script last), and waits for its reload to complete and its code to be served. */
async function buildReloads(run: Spawned, project: string, served: () => Promise<string>, build: string): Promise<void> {
  const from = run.output().length;
  writeFileSync(join(project, 'dist/lib.js'), lib(build));
  writeFileSync(join(project, 'dist/server.js'), server());
  await run.waitFor(occurrencesAfter(from, 'rolling reload complete replaced=2', 1));
  await until(async () => (await served()) === build, 20_000, `${build} served`);
}

async function stops(run: Spawned, runtime: string): Promise<void> {
  expect((await cli(['stop', 'w4'], { runtime })).code).toBe(0);
  await expect(run.exited()).resolves.toBe(0);
}

/** No reload failed, and the script's absence was said `times` times (once each time it went). */
function expectNoFailedReload(run: Spawned, times: number, script?: string): void {
  expect(run.output()).not.toMatch(/rolling reload failed|Cannot find module/);
  expect(run.output().split('\n').filter((line) => line.includes('does not exist now')).map((line) => line.slice(line.indexOf('[w4]')))).toEqual(Array(times).fill(missingLine(script)));
}

describe('clusterkit run --watch while the script being run is missing [H520]', () => {
  it('[H520] rm -rf dist; sleep; mkdir dist; build: the folder back empty reloads nothing, the line says why, and the build reloads', async () => {
    const { run, project, runtime, served } = await started();
    rmSync(join(project, 'dist'), { recursive: true });
    await run.waitFor(/\[w4\] dist is gone, and dist\/server\.js, the script being run, with it: the reload waits for it to come back/);
    // `sleep 3`: the root's poll has seen it gone (made again before, it is a replaced folder, not one back).
    await run.waitFor(/\[w4\] WARN dist is gone \(removed or moved away\)/);
    mkdirSync(join(project, 'dist'));
    await run.waitFor(/\[w4\] dist is back: watching again/);
    // The folder's return is a change; at its quiet time the script is still missing.
    await run.waitFor(kWaitOrFailure);
    expect(run.output()).not.toMatch(/rolling reload failed|Cannot find module/);
    expect(run.output()).toContain(missingLine());
    expect(await served()).toBe('build 1');
    await buildReloads(run, project, served, 'build 2');
    expectNoFailedReload(run, 1);
    await stops(run, runtime);
  });

  it('[H520] rm dist/server.js, then a copy: no reload while it is missing, the line once each time it goes, the copy reloads', async () => {
    const { run, project, runtime, served } = await started();
    for (const [round, build] of [[1, 'build 2'], [2, 'build 3']] as const) {
      const from = run.output().length;
      rmSync(join(project, 'dist/server.js'));
      await run.waitFor(new RegExp(`^[^]{${from}}[^]*?(?:does not exist now|rolling reload failed)`));
      expectNoFailedReload(run, round);
      expect(await served()).toBe(round === 1 ? 'build 1' : 'build 2');
      await buildReloads(run, project, served, build);
    }
    expectNoFailedReload(run, 2);
    await stops(run, runtime);
  });

  it('[H520] the script removed during a reload: the reload queued after it waits for the script, and its return reloads', async () => {
    const { run, project, runtime, served } = await started();
    // Build 2's workers listen 10 s after they load it: its first replacement is still starting when the script goes.
    const from = run.output().length;
    writeFileSync(join(project, 'dist/lib.js'), lib('build 2'));
    writeFileSync(join(project, 'dist/server.js'), server(10_000));
    await run.waitFor(occurrencesAfter(from, 'build 2 loaded', 1));
    rmSync(join(project, 'dist/server.js'));
    // The change supersedes the reload (H388), and gets a reload of its own after it: the script is missing then.
    await run.waitFor(new RegExp(`^[^]{${from}}[^]*?(?:does not exist now|rolling reload failed)`));
    expect(run.output()).toMatch(/\[w4\] rolling reload superseded/);
    expectNoFailedReload(run, 1);
    await buildReloads(run, project, served, 'build 3');
    expectNoFailedReload(run, 1);
    await stops(run, runtime);
  });

  it('[H520] a script outside the watched paths (--watch src): a change while it is missing reloads nothing; its return, which the watch cannot see, reloads', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const app = "require('node:http').createServer((q, r) => r.end(require('./src/lib.js').body)).listen(Number(process.env.PORT), '127.0.0.1');\n";
    const project = tempProject({ 'server.js': app, 'src/lib.js': lib('build 1') });
    const run = startCli(['run', 'server.js', '-w', '2', '--watch', 'src', '--name', 'w4', '--watch-delay', '100ms'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[w4\] watching src /);
    const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    rmSync(join(project, 'server.js'));
    const from = run.output().length;
    writeFileSync(join(project, 'src/lib.js'), lib('build 2'));
    await run.waitFor(new RegExp(`^[^]{${from}}[^]*?(?:does not exist now|rolling reload failed)`));
    expectNoFailedReload(run, 1, 'server.js');
    // Written back where no watch sees it: the look for it finds it, and src/lib.js's change reloads.
    writeFileSync(join(project, 'server.js'), app);
    await run.waitFor(occurrencesAfter(from, 'rolling reload complete replaced=2', 1));
    await until(async () => (await served()) === 'build 2', 20_000, 'build 2 served');
    expectNoFailedReload(run, 1, 'server.js');
    await stops(run, runtime);
  });
});
