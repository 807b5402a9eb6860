/**
 * PM2 app names and PM2's command spellings, with real `clusterkit` processes (pm2 tester t29):
 * [H260] any PM2 name runs and is found by the control commands; [H261] a script's odd file name
 * names its cluster, never a shared `service`; [H262] `ls` and `scale +1` / `-1`; [H263] a reload
 * during the start, and the `wait_ready` key named in the failure line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { commandHint } from '../../src/cli/pm2-hints.js';
import { kCommandNames } from '../../src/cli/help.js';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kIdle = join(kRepoRoot, 'test/fixtures/cli-idle-script.mjs');
const kIdleText = "setInterval(() => {}, 1 << 30);\n";

describe('[H260] PM2 app names', () => {
  it('[H260] an ecosystem app named "Billing API" runs, and status, show, logs, list, ls and stop find it by that name', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'Billing API', script: ${JSON.stringify(kIdle)} }] };\n` });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    // The command it suggests is one a shell takes back.
    await run.waitFor(/control it from another terminal/);
    expect(run.output()).toContain("control it from another terminal: clusterkit status|logs|reload|stop 'Billing API', clusterkit scale 'Billing API' <n>");
    const status = await cli(['status', 'Billing API', '--json'], { runtime });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ name: 'Billing API', targetWorkers: 1 });
    const show = await cli(['show', 'Billing API'], { runtime });
    expect(show).toMatchObject({ code: 0, stdout: expect.stringContaining('cluster Billing API') });
    expect(await cli(['logs', 'Billing API', '--lines', '5'], { runtime })).toMatchObject({ code: 0 });
    for (const command of ['list', 'ls']) {
      const listed = await cli([command, '--json'], { runtime });
      expect({ command, code: listed.code, names: (JSON.parse(listed.stdout) as { name: string }[]).map((cluster) => cluster.name) }).toEqual({ command, code: 0, names: ['Billing API'] });
    }
    // A second run of the name is refused naming the quoted command.
    const second = await cli(['run', kIdle, '--name', 'Billing API', '-w', '1'], { runtime });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`A cluster named "Billing API" is already running (primary pid ${run.child.pid}). Stop it first ("clusterkit stop 'Billing API'")`);
    expect(await cli(['stop', 'Billing API'], { runtime })).toMatchObject({ code: 0, stdout: 'stopped Billing API: 1 worker stopped gracefully\n' });
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H260] hostile names stay refused (exit 2) with the rule and a name to use, and reach no file', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'eco.config.cjs': `module.exports = { apps: [{ name: '../evil', script: ${JSON.stringify(kIdle)} }] };\n` });
    const fromFile = await cli(['run', 'eco.config.cjs'], { runtime, cwd: project });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toMatch(/"apps\[0\]\.name" is not a cluster name \(received "\.\.\/evil"\): it has a "\/"; a cluster name is 1 to 64 characters.*Try "evil"\./);
    for (const [name, suggestion] of [['a/b', 'a-b'], ['-dash', 'dash'], ['x'.repeat(65), 'x'.repeat(64)], ['a\x1b[2Jb', 'a-[2Jb']] as const) {
      const run = await cli(['run', kIdle, `--name=${name}`, '-w', '1'], { runtime });
      expect({ name, code: run.code }).toEqual({ name, code: 2 });
      expect(run.stderr).toContain(`Try ${JSON.stringify(suggestion)}.`);
      if (name.startsWith('-')) continue; // read as an option, which is why it is refused
      const status = await cli(['status', name], { runtime });
      expect({ name, code: status.code }).toEqual({ name, code: 2 });
      expect(status.stderr).toContain('is not a cluster name');
    }
  });
});

describe('[H261] a script whose file name is not a plain word', () => {
  it('[H261] "my worker (copy).js" and "ÿ.js" run side by side under their file names, not both as "service"', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'apps/my worker (copy).js': kIdleText, 'apps/ÿ.js': kIdleText, 'apps/-x.js': kIdleText, 'apps/---.js': kIdleText });
    const copy = startCli(['run', 'apps/my worker (copy).js', '-w', '1'], { runtime, cwd: project });
    const odd = startCli(['run', 'apps/ÿ.js', '-w', '1'], { runtime, cwd: project });
    await copy.waitFor(/\[my worker \(copy\)\] service my worker \(copy\) started: 1 worker/);
    await odd.waitFor(/\[ÿ\] service ÿ started: 1 worker/);
    const listed = await cli(['list', '--json'], { runtime });
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((cluster) => cluster.name).sort()).toEqual(['my worker (copy)', 'ÿ'].sort());
    // A file name that is no name as it is gets a mapped one, said at the start.
    const dashed = startCli(['run', 'apps/-x.js', '-w', '1'], { runtime, cwd: project });
    await dashed.waitFor(/\[x\] service x started: 1 worker/);
    expect(dashed.output()).toMatch(/\[x\] WARN named the cluster "x", as its script's file name "-x" is no cluster name as it is \(it starts with "-"\); choose its name with --name/);
    // One of which nothing is left is refused, asking for --name.
    const none = await cli(['run', 'apps/---.js', '-w', '1'], { runtime, cwd: project });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/The script "---\.js" gives no cluster name: .*Name it with --name/);
    for (const [run, name] of [[copy, 'my worker (copy)'], [odd, 'ÿ'], [dashed, 'x']] as const) {
      expect(await cli(['stop', name], { runtime })).toMatchObject({ code: 0 });
      await expect(run.exited()).resolves.toBe(0);
    }
  });
});

describe('[H280]-[H282] default names, long names, names that differ in case', () => {
  // Before (PM2 retester t29 N7): both were "api", and the second was refused with no word of where the name came from.
  it('[H280] api.v1.js and api.v2.js run side by side as api.v1 and api.v2; a clash of a name made of the file name suggests --name', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'api.v1.js': kIdleText, 'api.v2.js': kIdleText, 'copy/api.v1.js': kIdleText });
    const v1 = startCli(['run', 'api.v1.js', '-w', '1'], { runtime, cwd: project });
    const v2 = startCli(['run', 'api.v2.js', '-w', '1'], { runtime, cwd: project });
    await v1.waitFor(/\[api\.v1\] service api\.v1 started: 1 worker/);
    await v2.waitFor(/\[api\.v2\] service api\.v2 started: 1 worker/);
    const clash = await cli(['run', 'copy/api.v1.js', '-w', '1'], { runtime, cwd: project });
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(
      `A cluster named "api.v1" is already running (primary pid ${v1.child.pid}). This cluster's name "api.v1" came from its script's file name "api.v1.js", as no name was given: name it with --name`,
    );
    for (const [run, name] of [[v1, 'api.v1'], [v2, 'api.v2']] as const) {
      expect(await cli(['stop', name], { runtime })).toMatchObject({ code: 0 });
      await expect(run.exited()).resolves.toBe(0);
    }
  });

  // Before (PM2 retester t29 N8): "1 to 64 characters", but 11 CJK characters failed at the start (exit 1) on the socket path's 107 bytes.
  it('[H281] a name too long for the socket path here is refused up front (exit 2), saying the room there is, by run and by the control commands', async () => {
    const runtime = runtimeDir();
    const name = '日'.repeat(11);
    const run = await cli(['run', kIdle, '--name', name, '-w', '1'], { runtime });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/The cluster name "日{11}" is too long here: its control socket's file name would take 99 bytes, and only \d+ fit\. With the control directory .*about \d Chinese, Japanese or Korean characters/);
    const status = await cli(['status', name], { runtime });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('is too long here');
    // What fits runs, as before.
    const fits = startCli(['run', kIdle, '--name', '日'.repeat(5), '-w', '1'], { runtime });
    await fits.waitFor(/service 日{5} started: 1 worker/);
    expect(await cli(['stop', '日'.repeat(5)], { runtime })).toMatchObject({ code: 0 });
    await expect(fits.exited()).resolves.toBe(0);
  });

  // Before (PM2 retester t29 N9): api and Api ran side by side, as api.sock and Api.sock: one file on macOS's case-insensitive APFS.
  it('[H282] a name that differs from a running cluster\'s only in letter case is refused, naming it', async () => {
    const runtime = runtimeDir();
    const api = startCli(['run', kIdle, '--name', 'api', '-w', '1'], { runtime });
    await api.waitFor(/service api started: 1 worker/);
    const twin = await cli(['run', kIdle, '--name', 'Api', '-w', '1'], { runtime });
    expect(twin.code).toBe(1);
    expect(twin.stderr).toContain(`A cluster named "api" is already running (primary pid ${api.child.pid}), and "Api" differs from it only in letter case: on a case-insensitive file system`);
    expect(twin.stderr).toContain('Stop it first ("clusterkit stop api"), or choose another name.');
    // A name that differs in more than case runs beside it.
    const other = startCli(['run', kIdle, '--name', 'api2', '-w', '1'], { runtime });
    await other.waitFor(/service api2 started: 1 worker/);
    for (const [run, name] of [[api, 'api'], [other, 'api2']] as const) {
      expect(await cli(['stop', name], { runtime })).toMatchObject({ code: 0 });
      await expect(run.exited()).resolves.toBe(0);
    }
  });
});

describe('[H262] PM2 command spellings', () => {
  it('[H262] ls, l and ps list; info and desc show; the others get one precise hint', async () => {
    const runtime = runtimeDir();
    for (const alias of ['ls', 'l', 'ps']) expect(await cli([alias], { runtime })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^No cluster is running \(for this user; looked in [^\n]*\/clusterkit \(\$XDG_RUNTIME_DIR\/clusterkit\): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen\)\.\n$/) });
    expect(await cli(['info', 'nope'], { runtime })).toMatchObject({ code: 4 });
    expect(await cli(['desc', 'nope'], { runtime })).toMatchObject({ code: 4 });
    for (const command of ['jlist', 'prettylist', 'monit', 'imonit', 'dash', 'flush', 'reloadLogs', 'logrotate', 'gracefulReload', 'startOrReload', 'startOrRestart', 'startOrGracefulReload', 'kill', 'pid', 'sendSignal', 'env', 'dump', 'unstartup', 'update']) {
      expect({ command, hint: commandHint(command, kCommandNames) }).toEqual({ command, hint: expect.stringMatching(new RegExp(`^ PM2's "${command}" is `)) });
    }
    const typed = await cli(['startOrReload', 'ecosystem.config.js'], { runtime });
    expect(typed.code).toBe(2);
    expect(typed.stderr).toContain('PM2\'s "startOrReload" is "reload" for a cluster that runs: clusterkit reload <name>, which exits 4 when none of that name runs');
  });

  it('[H262] scale api +1 and -1 count from the current target; one that leaves no worker is refused', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', kIdle, '-w', '1', '--name', 'rel'], { runtime });
    await run.waitFor(/service rel started: 1 worker/);
    expect(await cli(['scale', 'rel', '+1'], { runtime })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^scaled rel to 2 workers/) });
    expect(await cli(['scale', 'rel', '-1'], { runtime })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^scaled rel to 1 worker /) });
    const none = await cli(['scale', 'rel', '-1'], { runtime });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('rel runs 1 worker, and -1 would leave 0: a cluster keeps at least 1 worker (to stop it: clusterkit stop rel).');
    const status = await cli(['status', 'rel', '--json'], { runtime });
    expect(JSON.parse(status.stdout)).toMatchObject({ targetWorkers: 1 });
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });
});

describe('[H263] CLI wording', () => {
  it('[H263] clusterkit reload during the start says so in CLI terms, waits for the start, then reloads (exit 0)', async () => {
    const runtime = runtimeDir();
    const project = tempProject({});
    const readyFile = join(project, 'ready');
    const run = startCli(['run', join(kRepoRoot, 'test/fixtures/cli-ready-on-file.mjs'), '-w', '1', '--name', 'wr', '--wait-ready'], { runtime, env: { READY_FILE: readyFile } });
    await run.waitFor(/waiting \d+/);
    const reload = startCli(['reload', 'wr'], { runtime });
    await reload.waitFor(/wr is still starting; the reload waits for its workers to be ready, then runs/);
    writeFileSync(readyFile, '');
    await expect(reload.exited()).resolves.toBe(0);
    expect(reload.stdout()).toMatch(/^reloaded wr: 1 worker replaced/);
    expect(reload.output()).not.toMatch(/reload\(\)|await start\(\)/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H263] the wait_ready failure line names the ecosystem key with the flag', async () => {
    const runtime = runtimeDir();
    const script = JSON.stringify(join(kRepoRoot, 'test/fixtures/cli-wait-ready.mjs'));
    const project = tempProject({
      'eco2.config.cjs': `module.exports = { apps: [{ name: 'wr2', script: ${script}, instances: 1, wait_ready: true, listen_timeout: 5000, max_restarts: 1, env: { PORT: '${await freePort()}', WARM_MS: '600000' } }] };\n`,
    });
    const run = startCli(['run', 'eco2.config.cjs'], { runtime, cwd: project });
    await expect(run.exited()).resolves.toBe(1);
    expect(run.output()).toContain("(its script's process.send('ready'), which --wait-ready (wait_ready in eco2.config.cjs) waits for)");
    expect(run.output()).toContain("With --wait-ready (wait_ready in eco2.config.cjs), a worker is ready only once its script calls process.send('ready'): check that it does, and within --ready-timeout (listen_timeout in eco2.config.cjs).");
  });
});
