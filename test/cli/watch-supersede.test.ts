/**
 * `clusterkit run --watch` with real workers and real writes: a save during a reload supersedes
 * a replacement still starting (H388), and a save while the first workers start, before the
 * watch is armed, reloads (H389).
 */
import { closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
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

const server = (body: string) => `require('node:http').createServer((q, r) => r.end(${body})).listen(Number(process.env.PORT));\n`;

async function stop(run: Spawned, name: string, runtime: string): Promise<void> {
  expect((await cli(['stop', name], { runtime })).code).toBe(0);
  await expect(run.exited()).resolves.toBe(0);
}

describe('clusterkit run --watch: a newer save supersedes the reload [H388]', () => {
  it('[H388][H503] a module saved by truncate, then write, the replacement loading it empty in between: stopped at once, the save reloads, no 60 s stall', async () => {
    const runtime = runtimeDir();
    const [port, health] = [await freePort(), await freePort()];
    // The app listens with what its module exports: caught empty, it never listens.
    const app = [
      "const routes = require('./routes.cjs');",
      'console.log(`routes: ${routes.body ?? "none"}`);',
      "if (routes.body !== undefined) require('node:http').createServer((q, r) => r.end(routes.body)).listen(Number(process.env.PORT));",
      '',
    ].join('\n');
    const project = tempProject({ 'src/app.cjs': app, 'src/routes.cjs': "module.exports = { body: 'v0' };\n" });
    const routes = join(project, 'src/routes.cjs');
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'trunc', '--watch', 'src', '--health-port', String(health)], {
      runtime,
      cwd: project,
      env: { PORT: String(port) },
    });
    await run.waitFor(/\[trunc\] watching src /);
    const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(await served()).toBe('v0');
    // writeFileSync's way: truncate (the empty file reloads), then write.
    const fd = openSync(routes, 'w');
    try {
      // The replacement loaded the module empty: it will not listen (the old code waited out the
      // ready timeout, then the listen timeout, 30 s each, before the save's own reload).
      await run.waitFor(/routes: none/);
      writeSync(fd, "module.exports = { body: 'v1' };\n");
    } finally {
      closeSync(fd);
    }
    // The old worker serves on: no worker lost.
    expect(await served()).toBe('v0');
    // 15 s: a generous bound (the old code stalled 60 s).
    await until(async () => (await served()) === 'v1', 15_000, 'v1 served');
    expect(run.output()).toMatch(/rolling reload superseded: src\/routes\.cjs changed \(written, made or removed\) while the replacement for worker slot 0, worker 2 \(pid \d+\), was starting/);
    // Its field is the outcome, not ERR_RELOAD_FAILED, which a log alert reads as a failure (H503, pm2 tester t53).
    expect(run.output()).toMatch(/rolling reload superseded: [^\n]* A reload for the change follows\. outcome=superseded\n/);
    // Said once (newcomer t87 #18: "they keep serving ..., and the old worker ... keep serving" with none replaced).
    expect(run.output()).toMatch(/the reload superseded; 0 of \d+ workers? (were|was) replaced: every old worker keeps serving\. A reload for the change follows\./);
    await run.waitFor(/rolling reload complete/, 10_000);
    const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    expect(metrics).toContain('clusterkit_reloads_total{outcome="succeeded"} 1\nclusterkit_reloads_total{outcome="failed"} 0\nclusterkit_reloads_total{outcome="superseded"} 1\n');
    expect(run.output()).not.toMatch(/rolling reload failed|the workers it did not replace keep serving the code from before it; the next change/);
    await stop(run, 'trunc', runtime);
  });
});

describe('clusterkit run --watch: a truncate that supersedes a reload, then its write [H388]', () => {
  it('[H388] the truncate supersedes the reload under way, the reload for it starts from the empty file, and the write supersedes that one too: no 60 s stall', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // A replacement is "starting" 1 s before it listens: long enough for the truncate to land in it.
    const app = [
      "const routes = require('./routes.cjs');",
      'console.log(`routes: ${routes.body ?? "none"}`);',
      "if (routes.body !== undefined) setTimeout(() => require('node:http').createServer((q, r) => r.end(routes.body)).listen(Number(process.env.PORT)), 1000);",
      '',
    ].join('\n');
    const project = tempProject({ 'src/app.cjs': app, 'src/routes.cjs': "module.exports = { body: 'v0' };\n" });
    const routes = join(project, 'src/routes.cjs');
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'trunc2', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[trunc2\] watching src /);
    const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    await until(async () => (await served().catch(() => '')) === 'v0', 20_000, 'v0 served');
    // A whole save of v1 (write, then rename): its reload's replacement loads v1 and waits 1 s.
    writeFileSync(`${routes}.tmp`, "module.exports = { body: 'v1' };\n");
    renameSync(`${routes}.tmp`, routes);
    await run.waitFor(/routes: v1/);
    // Then a save of v2 the editor's way: truncate (superseding the v1 reload) ...
    const fd = openSync(routes, 'w');
    try {
      // ... the reload for the truncate loads the module empty (it will never listen) ...
      await run.waitFor(/routes: none/);
      // ... and the write (before: not superseded, as the reload after a superseded one, it waited
      // out its ready and listen timeouts, 30 s each; retest t39 NEW-1: 66 s).
      writeSync(fd, "module.exports = { body: 'v2' };\n");
    } finally {
      closeSync(fd);
    }
    await until(async () => (await served().catch(() => '')) === 'v2', 20_000, 'v2 served');
    expect(run.output().match(/rolling reload superseded/g)?.length).toBe(2);
    await stop(run, 'trunc2', runtime);
  });
});

describe('clusterkit run --watch: a burst of saves, each a truncate then a write [H418]', () => {
  it('[H418] a whole save, then 4 saves the editor\'s way during the reloads (9 reloads superseded in a row): the newest served, no 60 s stall', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // A replacement is "starting" 1.5 s before it listens: long enough for the next change to land in it.
    const app = [
      "const routes = require('./routes.cjs');",
      'console.log(`routes: ${routes.body ?? "none"}`);',
      "if (routes.body !== undefined) setTimeout(() => require('node:http').createServer((q, r) => r.end(routes.body)).listen(Number(process.env.PORT)), 1500);",
      '',
    ].join('\n');
    const project = tempProject({ 'src/app.cjs': app, 'src/routes.cjs': "module.exports = { body: 'v0' };\n" });
    const routes = join(project, 'src/routes.cjs');
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'burst', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[burst\] watching src /);
    const served = () => fetch(`http://127.0.0.1:${port}/`).then((response) => response.text(), () => '');
    await until(async () => (await served()) === 'v0', 20_000, 'v0 served');
    // A whole save of v1: its reload's replacement loads v1 and starts.
    writeFileSync(`${routes}.tmp`, "module.exports = { body: 'v1' };\n");
    renameSync(`${routes}.tmp`, routes);
    await run.waitFor(/routes: v1/);
    for (let save = 2; save <= 5; save++) {
      // Truncate while the last version's replacement starts (superseding its reload) ...
      const fd = openSync(routes, 'w');
      try {
        // ... the reload for the truncate loads the module empty (it will never listen) ...
        await run.waitFor(occurrencesAfter(0, 'routes: none', save - 1));
        // ... and the write, more than the watch delay later, supersedes that one too. Before, the
        // 4th reload in a row was left on the empty module: its ready and listen timeouts, 60 s.
        writeSync(fd, `module.exports = { body: 'v${save}' };\n`);
      } finally {
        closeSync(fd);
      }
      // 20 s: generous (the old code's 4th reload waited out 60 s before this one started).
      if (save < 5) await run.waitFor(new RegExp(`routes: v${save}\\b`), 20_000);
    }
    const lastSaveAt = Date.now();
    // 25 s: a generous bound (the old code stalled 60 s on the empty module from the 2nd save on).
    await until(async () => (await served()) === 'v5', 25_000, 'v5 served');
    expect(Date.now() - lastSaveAt).toBeLessThan(25_000);
    expect(run.output().match(/rolling reload superseded/g)?.length).toBeGreaterThanOrEqual(4);
    expect(run.output()).not.toMatch(/rolling reload failed|the workers it did not replace keep serving the code from before it; the next change|was written while each of the last/);
    await stop(run, 'burst', runtime);
  });
});

describe('clusterkit run --watch: a save before the watch is armed [H389]', () => {
  it('[H389] the script saved while the first worker loads (before "watching"): reloaded to the save', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // The first worker says it loads, then takes 1.5 s before it is ready: the save lands meanwhile.
    const slow = `console.log('loading v0'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);\n${server("'v0'")}`;
    const project = tempProject({ 'src/app.cjs': slow });
    const app = join(project, 'src/app.cjs');
    const run = startCli(['run', 'src/app.cjs', '-w', '1', '--name', 'early', '--watch', 'src'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/loading v0/);
    expect(run.output()).not.toMatch(/watching src/);
    // Written whole, renamed into place.
    writeFileSync(`${app}.tmp`, server("'v1'"));
    renameSync(`${app}.tmp`, app);
    await run.waitFor(/\[early\] watching src /);
    const served = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    // 20 s: a generous bound (the old code never reloaded: v0 forever).
    await until(async () => (await served()) === 'v1', 20_000, 'v1 served');
    expect(run.output()).toMatch(/src\/app\.cjs changed while the workers started, before the watch was armed: a reload follows/);
    await run.waitFor(/rolling reload complete/, 10_000);
    await stop(run, 'early', runtime);
  });
});
