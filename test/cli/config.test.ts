import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { kClusterNameRule } from '../../src/control/cluster-name.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = readFileSync(join(kRepoRoot, 'test/fixtures/cli-env-server.mjs'), 'utf8');

interface Answer {
  pid: number;
  cwd: string;
  argv: string[];
  execArgv: string[];
  env: Record<string, string | null>;
}

function withoutLoadingNotice(stderr: string): string {
  return stderr.replace(/^clusterkit: loading .*\.\.\. \(waiting for its default export; giving up after \d+ s\)\n/, '');
}

async function ask(port: number, vars: string[] = []): Promise<Answer> {
  return JSON.parse((await get(`http://127.0.0.1:${port}/?vars=${vars.join(',')}`)).body) as Answer;
}

interface Status {
  pid: number;
  script: string;
  cwd: string;
  targetWorkers: number;
  workers: Array<{ pid: number }>;
}

describe('clusterkit run with a config file', () => {
  it('runs every app of a TypeScript config (defineConfig from the package), each in its own primary; one SIGINT stops all gracefully', async () => {
    const runtime = runtimeDir();
    const [apiPort, jobsPort] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.mjs': kServer,
      'jobs/server.mjs': kServer,
      'clusterkit.config.ts': `import { defineConfig, type AppConfig } from 'clusterkit';
const jobs: AppConfig = { name: 'jobs', cwd: './jobs', script: 'server.mjs', workers: 1, env: { PORT: ${jobsPort}, ROLE: 'jobs' }, args: ['--queue', 'mail'] };
export default defineConfig({
  apps: [{ name: 'api', script: './server.mjs', workers: 2, env: { PORT: '${apiPort}', ROLE: 'api' }, shutdownTimeout: '5s' }, jobs],
});
`,
    });
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/service api started: 2 workers/);
    await run.waitFor(/service jobs started: 1 worker/);
    // Output is prefixed per app.
    await run.waitFor(/\[api:1\] listening on /);
    await run.waitFor(/\[jobs:1\] listening on /);
    expect(await ask(apiPort, ['ROLE'])).toMatchObject({ cwd: project, env: { ROLE: 'api' }, argv: [] });
    expect(await ask(jobsPort, ['ROLE'])).toMatchObject({ cwd: join(project, 'jobs'), env: { ROLE: 'jobs' }, argv: ['--queue', 'mail'] });

    // Each app is controlled by name, from its own primary process (not the launcher).
    const api = JSON.parse((await cli(['status', 'api', '--json'], { runtime })).stdout) as Status;
    const jobs = JSON.parse((await cli(['status', 'jobs', '--json'], { runtime })).stdout) as Status;
    expect(api).toMatchObject({ script: join(project, 'server.mjs'), cwd: project, targetWorkers: 2 });
    expect(jobs).toMatchObject({ script: join(project, 'jobs/server.mjs'), cwd: join(project, 'jobs'), targetWorkers: 1 });
    expect(new Set([api.pid, jobs.pid, run.child.pid]).size).toBe(3);
    const text = await cli(['status', 'jobs'], { runtime });
    expect(text.stdout).toContain(`script ${join(project, 'jobs/server.mjs')}  cwd ${join(project, 'jobs')}\n`);

    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toMatch(/\[api\] shutdown complete graceful=2 failed=0 killed=0/);
    expect(run.output()).toMatch(/\[jobs\] shutdown complete graceful=1 failed=0 killed=0/);
    await waitUntilGone([api.pid, jobs.pid, ...api.workers.map((worker) => worker.pid), ...jobs.workers.map((worker) => worker.pid)]);
  });


  it('runs one app by name; flags override the file: -w over workers, --env over env and envFile, --node-arg added', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.mjs': kServer,
      '.env': 'FROM_FILE=file\nSHARED=file\n',
      'deploy/apps.mjs': `export default {
  apps: [
    { name: 'web', cwd: '..', script: 'server.mjs', workers: 3, envFile: '.env', env: { PORT: '${port}', SHARED: 'config', KEPT: 'config' }, nodeArgs: ['--max-old-space-size=256'] },
    { name: 'other', cwd: '..', script: 'server.mjs' },
  ],
};
`,
    });
    const run = startCli(['run', 'web', '--config', 'deploy/apps.mjs', '-w', '1', '--env', 'SHARED=flag', '--node-arg=--stack-size=2000'], { runtime, cwd: project });
    await run.waitFor(/service web started: 1 worker/);
    const answer = await ask(port, ['FROM_FILE', 'SHARED', 'KEPT']);
    expect(answer).toMatchObject({ cwd: project, env: { FROM_FILE: 'file', SHARED: 'flag', KEPT: 'config' } });
    expect(answer.execArgv.filter((arg) => /^--(max-old-space|stack)-size/.test(arg))).toEqual(['--max-old-space-size=256', '--stack-size=2000']);
    expect(run.output()).not.toMatch(/service other/);
    expect((await cli(['stop', 'web'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  // Before: a file not named ecosystem.* whose only PM2 shape was a string args was read as clusterkit's, and refused:
  // "apps[0].args" must be an array of strings (exit 2), while the same file named ecosystem.config.cjs ran.
  it('[H127] runs a PM2 app whose only PM2 shape is a string args (or watch) from a file not named ecosystem.*, as PM2 reads it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'server.cjs': kServer.replace("import http from 'node:http';", "const http = require('node:http');"),
      'app.config.cjs': `module.exports = { apps: [{ name: 'plain', script: './server.cjs', args: '--port ${port} --title "two words"', env: { PORT: ${port} } }] };\n`,
    });
    const run = startCli(['run', 'app.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service plain started: 1 worker /);
    expect(await ask(port)).toMatchObject({ argv: ['--port', String(port), '--title', 'two words'] });
    expect(run.stderr()).not.toContain('warning:');
    expect((await cli(['stop', 'plain'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
    // A string watch is PM2's too (one path); clusterkit's own args, an array, keeps the file clusterkit's
    // (read as PM2's, its problems would be prefixed app "own": ).
    const checks = await Promise.all([
      cli(['run', 'watch.config.json'], { runtime, cwd: tempProject({ 'server.mjs': kServer, 'watch.config.json': '{ "apps": [{ "name": "w", "script": "server.mjs", "watch": "src", "wrkers": 2 }] }' }) }),
      cli(['run', 'own.config.json'], { runtime, cwd: tempProject({ 'server.mjs': kServer, 'own.config.json': '{ "apps": [{ "name": "own", "script": "server.mjs", "args": ["--port", "1"], "wrkers": 2 }] }' }) }),
    ]);
    expect(checks.map((check) => check.code)).toEqual([2, 2]);
    expect(withoutLoadingNotice(checks[0]!.stderr)).toMatch(/watch\.config\.json: app "w": Unknown key "apps\[0\]\.wrkers"\. Did you mean "workers"\?\n/);
    expect(withoutLoadingNotice(checks[1]!.stderr)).toMatch(/own\.config\.json: Unknown key "apps\[0\]\.wrkers"\. Did you mean "workers"\?\n/);
  });

  it('runs examples/config; stops every app gracefully when the launcher is killed (SIGKILL): no orphaned primary', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run'], { runtime, cwd: join(kRepoRoot, 'examples/config'), env: { PORT: String(port) } });
    await run.waitFor(/service web started: 2 workers/);
    await run.waitFor(/\[jobs:1\] processed job 1\n/);
    expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(200);
    const logs = await cli(['logs', 'jobs', '--lines', '50'], { runtime });
    // The worker's stdout lines, in order (the primary's info lines are on stdout too, between them).
    const workerLines = logs.stdout.split('\n').filter((line) => line.startsWith('[jobs:1] ')).join('\n');
    expect(workerLines).toMatch(/^\[jobs:1\] jobs worker \d+ polling every 1000 ms\n\[jobs:1\] processed job 1(\n|$)/);
    const statuses = await Promise.all(['web', 'jobs'].map(async (name) => JSON.parse((await cli(['status', name, '--json'], { runtime })).stdout) as Status));
    process.kill(run.child.pid!, 'SIGKILL');
    const pids = statuses.flatMap((status) => [status.pid, ...status.workers.map((worker) => worker.pid)]);
    await waitUntilGone(pids, 30_000);
    expect(pids.some(isAlive)).toBe(false);
  });
});

describe('clusterkit run with a config file: its launcher killed', () => {
  it("[H337] each app's log says its launcher (clusterkit run, pid N) is gone, not that shutdown() was called in the primary's code", async () => {
    const runtime = runtimeDir();
    const [onePort, twoPort] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.mjs': kServer,
      'clusterkit.config.json': JSON.stringify({
        apps: [
          { name: 'gone-one', script: 'server.mjs', workers: 1, env: { PORT: String(onePort) }, outFile: 'one-out.log' },
          { name: 'gone-two', script: 'server.mjs', workers: 1, env: { PORT: String(twoPort) }, outFile: 'two-out.log' },
        ],
      }),
    });
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/service gone-one started: 1 worker/);
    await run.waitFor(/service gone-two started: 1 worker/);
    const statuses = await Promise.all(['gone-one', 'gone-two'].map(async (name) => JSON.parse((await cli(['status', name, '--json'], { runtime })).stdout) as Status));
    const launcherPid = run.child.pid!;
    process.kill(launcherPid, 'SIGKILL');
    const pids = statuses.flatMap((status) => [status.pid, ...status.workers.map((worker) => worker.pid)]);
    await waitUntilGone(pids, 30_000);
    for (const [name, file] of [['gone-one', 'one-out.log'], ['gone-two', 'two-out.log']] as const) {
      const log = readFileSync(join(project, file), 'utf8');
      expect(log).toContain(`[${name}] shutting down: its launcher (clusterkit run, pid ${launcherPid}) is gone, and the apps it started stop with it`);
      expect(log).not.toContain("shutdown() was called in the primary's code");
      expect(log).toMatch(new RegExp(`^\\[${name}\\] shutdown complete graceful=1`, 'm'));
    }
  });
});

describe('clusterkit run --env, --env-file, --cwd', () => {
  it('gives the workers the variables (--env over --env-file over the inherited ones) and the working directory; status shows it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'app/server.mjs': kServer, 'app/.env': 'PORT=1\nFROM_FILE="quoted value"\nINHERITED=file\n# comment\n' });
    // The script is found in --cwd, as PM2 finds it (pm2 start server.mjs --cwd app).
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'opts', '--env-file', 'app/.env', '--env', `PORT=${port}`, '--env', 'EMPTY=', '--cwd', 'app'], {
      runtime,
      cwd: project,
      env: { INHERITED: 'shell' },
    });
    await run.waitFor(/service opts started/);
    const answer = await ask(port, ['FROM_FILE', 'INHERITED', 'EMPTY']);
    expect(answer).toMatchObject({ cwd: join(project, 'app'), env: { FROM_FILE: 'quoted value', INHERITED: 'file', EMPTY: '' } });
    const status = await cli(['status', 'opts'], { runtime });
    expect(status.stdout).toContain(`script ${join(project, 'app/server.mjs')}  cwd ${join(project, 'app')}\n`);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });
});

describe('config file errors', () => {
  /** [file name, content, what stderr must say after "clusterkit: <file>: "]. Each exits 2 before anything starts. */
  const kBad: Array<[string, string, RegExp]> = [
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "instances": "many" }] }', /^"apps\[0\]\.instances" must be a whole number or "max", as PM2 takes it: 4, "max" or 0 \(one per CPU\), -1 \(every CPU but one\)\. Received "many"\./],
    ['clusterkit.config.mjs', "export default { apps: [{ script: 'server.mjs', wrkers: 2 }] };", /^Unknown key "apps\[0\]\.wrkers"\. Did you mean "workers"\?/],
    ['clusterkit.config.ts', "export default { apps: [{ script: 'server.mjs', workers: 0 as number }] };", /^"apps\[0\]\.workers" must be a positive integer, "auto" or "max"\. Received 0\./],
    ['clusterkit.config.cjs', "module.exports = { apps: [{ script: 'server.mjs', shutdownTimeout: '10x' }] };", /^"apps\[0\]\.shutdownTimeout" must be a duration such as 10s, 500ms or 2m \(a number is milliseconds\)\. Received "10x"\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "env": { "A": { "b": 1 } } }] }', /^"apps\[0\]\.env\.A" must be a string, a number or a boolean\. Received an object\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs" }, { "script": "server.mjs" }] }', /^"apps\[1\]" has the name "server", like "apps\[0\]"; each app needs its own name\./],
    ['clusterkit.config.json', '{ "apps": [] }', /^"apps" must be a non-empty array of apps\. Received an empty array\./],
    // A byte order mark first (a Windows editor's) is read past, as Node's require() does (H593): before, "not valid JSON: Unexpected token ''".
    ['clusterkit.config.json', '\uFEFF{ "apps": [{ "script": "server.mjs", "wrkers": 2 }] }', /^Unknown key "apps\[0\]\.wrkers"\. Did you mean "workers"\?/],
    // [H613] An integer JSON cannot hold exactly is refused, not passed on with its digits lost (hostile t61).
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "env": { "BIG": 12345678901234567890 } }] }', /^"apps\[0\]\.env\.BIG" is a number past 2\^53 - 1 \(12345678901234567000\), which a number cannot hold exactly: its last digits may be lost already\. Write it as a string \("BIG": "<its digits>"\)\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "name": "a/b" }] }', /^"apps\[0\]\.name" is not a cluster name \(received "a\/b"\): it has a "\/"; .* Try "a-b"\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "cwd": "nowhere" }] }', /^"apps\[0\]\.cwd": no such directory: /],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "envFile": "missing.env" }] }', /^"apps\[0\]\.envFile": cannot read \S+\/missing\.env \(ENOENT\)\./],
    // PM2's keys are read in PM2's terms (pm2-app.ts); a bad value is named by the key as written, with the app.
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "name": "api", "exec_mode": "threads" }] }', /^app "api": "apps\[0\]\.exec_mode" must be "cluster" or "fork" \(PM2 also takes "cluster_mode" and "fork_mode"\)\. Received "threads"\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "max_restarts": -1 }] }', /^"apps\[0\]\.max_restarts" must be a whole number, 0 or more\. Received -1\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "min_uptime": "soon" }] }', /^"apps\[0\]\.min_uptime" must be a duration such as 10s, 500ms or 2m \(a number is milliseconds\)\. Received "soon"\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "max_memory_restart": "1.5G" }] }', /^"apps\[0\]\.max_memory_restart" must be a memory size as PM2 takes it/],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "maxRestarts": 0 }] }', /^"apps\[0\]\.maxRestarts" must be a positive integer\. Received 0\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "startupWindow": "soon" }] }', /^"apps\[0\]\.startupWindow" must be/],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "startupWindow": -1 }] }', /^"apps\[0\]\.startupWindow" must be/],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "gradualDrain": "x" }] }', /^"apps\[0\]\.gradualDrain" must be a duration such as 10s, 500ms or 2m \(a number is milliseconds\)\. Received "x"\./],
    ['clusterkit.config.json', '{ "apps": [{ "script": "server.mjs", "gradualDrain": -1 }] }', /^"apps\[0\]\.gradualDrain" must be a duration such as 10s, 500ms or 2m \(a number is milliseconds\)\. Received -1\./],
    // What JSON cannot hold, named truthfully (not "null", not a crash on a BigInt), and
    // fractions of a millisecond refused as numbers and strings alike: every problem at once.
    [
      'clusterkit.config.mjs',
      `export default { apps: [{ script: 'server.mjs', env: { A: 10n }, workers: 2n ** 70n, maxWorkers: Symbol('n'), shutdownTimeout: NaN, gradualDrain: '0.4ms',
        readyTimeout: Infinity, maxRestarts: () => 3, restartWindow: -Infinity, startupWindow: 0.4, watchDelay: '1.5' }] };`,
      new RegExp(
        '^10 problems:\\n' +
          [
            `"apps[0].env.A" must be a string, a number or a boolean. Received 10n (a BigInt).`,
            `"apps[0].workers" must be a positive integer, "auto" or "max". Received 1180591620717411303424n (a BigInt).`,
            `"apps[0].maxWorkers" must be a positive integer. Received Symbol(n).`,
            `"apps[0].shutdownTimeout" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received NaN.`,
            `"apps[0].gradualDrain" must be at least 1ms, or 0 to turn it off. Received "0.4ms".`,
            `"apps[0].readyTimeout" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received Infinity.`,
            `"apps[0].maxRestarts" must be a positive integer. Received a function.`,
            `"apps[0].restartWindow" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received -Infinity.`,
            `"apps[0].startupWindow" must be at least 1ms, or 0 (only exits before ready are failed starts). Received 0.4.`,
            `"apps[0].watchDelay" must be a whole number of milliseconds. Received "1.5".`,
          ]
            .map((line) => `  - ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`)
            .join(''),
      ),
    ],
    // A BigInt as the whole config: a usage error too.
    ['clusterkit.config.mjs', 'export default 10n;', /^The config must be an object with "apps", as in .*\. Received 10n \(a BigInt\)\./],
    // A file written for PM2: every problem in one run, not one per run.
    [
      'clusterkit.config.json',
      '{ "apps": [{ "script": "server.mjs", "instances": 4, "exec_mode": "cluster", "kill_timeout": "5x", "workers": 0 }, { "script": "server.mjs", "name": "b", "readyTimeout": "1x" }] }',
      /^4 problems:\n  - "apps\[0\]" has both "workers" and "instances", which are the same setting \("workers" here\); keep one\.\n  - "apps\[0\]\.workers" must be a positive integer, "auto" or "max"\. Received 0\.\n  - "apps\[0\]\.kill_timeout" must be a duration such as 10s, 500ms or 2m \(a number is milliseconds\)\. Received "5x"\.\n  - app "b": "apps\[1\]\.readyTimeout" must be a duration such as 10s, 500ms or 2m \(a number is milliseconds\)\. Received "1x"\.\n/,
    ],
    // The file's own unknown key is said with the rest (H129).
    ['clusterkit.config.json', '{ "services": [] }', /^2 problems:\n {2}- Unknown key "services"\. Known keys: apps\.\n {2}- "apps" must be a non-empty array of apps\. It is missing \(undefined\): pass it\.\n/],
  ];

  it('[H39][H593][H613] exits 2 naming the key and the file, for each kind of mistake and each kind of file (every problem of a file at once)', async () => {
    const runtime = runtimeDir();
    const projects = kBad.map(([file, content]) => tempProject({ 'server.mjs': kServer, [file]: content }));
    const results = await Promise.all(projects.map((project) => cli(['run'], { runtime, cwd: project })));
    results.forEach((result, index) => {
      const [file, , message] = kBad[index]!;
      expect({ file, code: result.code }).toEqual({ file, code: 2 });
      const prefix = `clusterkit: ${join(projects[index]!, file)}: `;
      // On a busy machine a slow load is announced first ("clusterkit: loading ..."): not a mistake.
      const stderr = withoutLoadingNotice(result.stderr);
      expect(stderr.startsWith(prefix)).toBe(true);
      expect(stderr.slice(prefix.length)).toMatch(message);
      expect(result.stderr).toContain('Usage: clusterkit run');
      expect(result.stdout).toBe('');
    });
  });

  // Before: a missing script ended its app's checks, and an app that failed was left out of the
  // duplicate-name check: a tester fixed this file in three runs (newcomer LOW 5).
  it('[H129][H377] reports every problem of a file in one run: the keys of an app whose script or cwd is wrong, its duplicate name, the file\'s own keys', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'bad.config.cjs': `module.exports = { apps: [
  { name: 'b1', script: './server.mjs', instances: 'lots', exec_mode: 'thread' },
  { name: 'b1', script: './missing.js', cron_restart: 'every day', wait_ready: 'true' },
  { name: 'b2', script: 'server.mjs', cwd: 'nowhere', envFile: 'missing.env', kill_timeout: 'soon' },
  { name: 'b/c', dev: true, instances: 2 },
], services: 1 };\n`,
    });
    const result = await cli(['run', 'bad.config.cjs'], { runtime, cwd: project });
    expect(result.code).toBe(2);
    const problems = [
      'Unknown key "services". Known keys: apps, deploy.',
      'app "b1": "apps[0].instances" must be a whole number or "max", as PM2 takes it: 4, "max" or 0 (one per CPU), -1 (every CPU but one). Received "lots".',
      'app "b1": "apps[0].exec_mode" must be "cluster" or "fork" (PM2 also takes "cluster_mode" and "fork_mode"). Received "thread".',
      `app "b1": "apps[1].script": script not found: ${join(project, 'missing.js')}`,
      'app "b1": "apps[1].wait_ready" must be true or false. Received "true".',
      // [H377] cron_restart is used, so checked: before, a warning said it was not.
      `app "b1": "apps[1].cron_restart" must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), read in the primary's local time zone, such as '0 3 * * *' (every day at 03:00); it has 2 fields: 5 or 6 are read (no year field). Received "every day".`,
      // A cwd that is not there: the files named relative to it are not looked for; the other keys are checked.
      `app "b2": "apps[2].cwd": no such directory: ${join(project, 'nowhere')}`,
      'app "b2": "apps[2].kill_timeout" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received "soon".',
      'app "b/c": "apps[3]" has no "script": the file every worker runs, as in script: \'./server.js\'.',
      `app "b/c": "apps[3].name" is not a cluster name (received "b/c"): it has a "/"; ${kClusterNameRule}. Try "b-c".`,
      'app "b/c": "apps[3]" has both "dev" (a single worker) and "instances"; keep one.',
      '"apps[1]" has the name "b1", like "apps[0]"; each app needs its own name.',
    ];
    expect(withoutLoadingNotice(result.stderr).replace(/^clusterkit: reading .*\n/, '')).toBe(
      `clusterkit: ${join(project, 'bad.config.cjs')}: ${problems.length} problems:\n${problems.map((problem) => `  - ${problem}\n`).join('')}` +
        'Usage: clusterkit run [<script> | <app>] [options] [-- script args]\nRun "clusterkit run --help" for the options and examples.\n',
    );
    expect(result.stdout).toBe('');
  });

  // Before: both apps started, and one was refused at run time by the other, whichever came up first (tester t30 L4).
  it('[H287] refuses at load an ecosystem file whose apps differ only in letter case, naming both, before anything starts', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'svc', script: './server.mjs' }, { name: 'other', script: './server.mjs' }, { name: 'Svc', script: './server.mjs' }] };\n",
    });
    const result = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '"apps[2]" has the name "Svc", and "apps[0]" has "svc": they differ only in letter case, and on a case-insensitive file system (macOS by default) their control sockets would be one file, so the second app\'s start would be refused. Name them apart (for example "Svc-2").',
    );
    expect(result.stderr).not.toContain('starting');
    expect(result.stdout).toBe('');
  });

  it('[H326] a config that throws is placed as a syntax error is: its line and column, and the file it imports that threw', async () => {
    const runtime = runtimeDir();
    const secret = 'export function secret() {\n  throw new Error("no secret");\n}\n';
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'clusterkit.config.ts': 'const n: number = 1;\n\nif (n) throw new Error("config boom.");\nexport default { apps: [] };\n' }, /^clusterkit: Cannot load the config file \S+clusterkit\.config\.ts:3:14: Error: config boom\.\n/],
      [{ 'clusterkit.config.cjs': '// secrets\nconst token = JSON.parse("{");\nmodule.exports = { apps: [] };\n' }, /^clusterkit: Cannot load the config file \S+clusterkit\.config\.cjs:2:20: SyntaxError: /],
      [
        { 'lib/secret.mjs': secret, 'clusterkit.config.mjs': 'import { secret } from "./lib/secret.mjs";\nexport default { apps: [{ script: secret() }] };\n' },
        /^clusterkit: Cannot load the config file \S+clusterkit\.config\.mjs:2:35: Error: no secret \(thrown at \S+lib\/secret\.mjs:2:9\)\n/,
      ],
      [{ 'clusterkit.config.mjs': 'throw "a string";\n' }, /^clusterkit: Cannot load the config file \S+clusterkit\.config\.mjs: /],
    ];
    const results = await Promise.all(cases.map(([files]) => cli(['run'], { runtime, cwd: tempProject(files) })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(withoutLoadingNotice(result.stderr)).toMatch(cases[index]![1]);
    });
  });

  it('[H530] says what is wrong with a file that cannot be used at all, or with a script named after "--"', async () => {
    const runtime = runtimeDir();
    const cases: Array<[Record<string, string>, string[], RegExp]> = [
      [{ 'clusterkit.config.ts': 'export const apps = [];' }, ['run'], /has no default export; write "export default defineConfig/],
      // A syntax error points at its line and column: TypeScript through jiti, JavaScript through node --check.
      [{ 'clusterkit.config.mjs': 'export default {;' }, ['run'], /^clusterkit: Cannot load the config file \S+clusterkit\.config\.mjs:1:17: SyntaxError: Unexpected token ';'\n/],
      [{ 'clusterkit.config.ts': "export default {\n  apps: [\n    { name: 'a' script: './x.js' },\n  ],\n};\n" }, ['run'], /^clusterkit: Cannot load the config file \S+clusterkit\.config\.ts:3:16: ParseError: Unexpected token, expected ","\n/],
      [{ 'clusterkit.config.cjs': 'module.exports = {\n  apps: [{ script: "x" "y" }],\n};\n' }, ['run'], /^clusterkit: Cannot load the config file \S+clusterkit\.config\.cjs:2:24: SyntaxError: Unexpected string\n/],
      [{ 'clusterkit.config.mjs': 'throw new Error("no secrets");' }, ['run'], /^clusterkit: Cannot load the config file \S+clusterkit\.config\.mjs:1:7: Error: no secrets\n/],
      [{ 'clusterkit.config.json': '{ apps: [] }' }, ['run'], /is not valid JSON/],
      // PM2's ecosystem.config.js in a project of ES modules: Node's "rename it .cjs" is on a line of its own, so it is said here.
      [
        { 'package.json': '{ "type": "module" }', 'ecosystem.config.js': "module.exports = { apps: [{ script: './server.cjs' }] };\n" },
        ['run', 'ecosystem.config.js'],
        /clusterkit: Cannot load the config file \S+ecosystem\.config\.js:1:1: ReferenceError: module is not defined in ES module scope\. ecosystem\.config\.js is an ES module here, because the nearest package\.json has "type": "module": rename it ecosystem\.config\.cjs \(a \.cjs file is CommonJS whatever package\.json says\), or write "export default \{ apps: \[\.\.\.\] \}" instead of "module\.exports ="\n/,
      ],
      [
        { 'package.json': '{ "type": "module" }', 'clusterkit.config.js': "const path = require('node:path');\nmodule.exports = { apps: [] };\n" },
        ['run'],
        /ReferenceError: require is not defined in ES module scope, you can use import instead\. clusterkit\.config\.js is an ES module here, because the nearest package\.json has "type": "module": rename it clusterkit\.config\.cjs /,
      ],
      [{ 'clusterkit.config.json': '{}', 'clusterkit.config.mjs': '' }, ['run'], /has 2 config files \(clusterkit\.config\.mjs, clusterkit\.config\.json\); keep one, or choose with --config\./],
      [{ 'server.mjs': kServer, 'clusterkit.config.json': '{ "apps": [{ "name": "api", "script": "server.mjs" }] }' }, ['run', 'apj'], /"apj" is neither a script nor an app of \S+ \(apps: api\)\./],
      [{}, ['run', '--config', 'none.ts'], /Config file not found: /],
      [{}, ['run'], /^clusterkit: Missing the script to run\. Name one \(clusterkit run server\.js\), or put a clusterkit\.config\.ts in /],
      // A PM2 user's directory: the ecosystem file is what was meant.
      [{ 'ecosystem.config.cjs': 'module.exports = { apps: [] };\n' }, ['run'], /^clusterkit: Missing the script to run\. ecosystem\.config\.cjs is here: run its apps with clusterkit run ecosystem\.config\.cjs /],
      // [H530] The script after "--" is an argument of the script: said so, not "name one".
      [{ 'server.js': kServer }, ['run', '--name', 'x', '--', 'server.js'], /^clusterkit: Missing the script to run: "server\.js" came after "--", which passes what follows to the script as its arguments\. Name the script before "--" \(clusterkit run server\.js \[options\] -- \[its arguments\]\)\./],
    ];
    const results = await Promise.all(cases.map(([files, args]) => cli(args, { runtime, cwd: tempProject(files) })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(withoutLoadingNotice(result.stderr)).toMatch(cases[index]![2]);
    });
  });
});
