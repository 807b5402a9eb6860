/**
 * `clusterkit show <name>` / `describe <name>` (PM2's `show` / `describe`): the settings a
 * running cluster has in force, from its primary over the control socket, then its workers.
 * A real `clusterkit run` process; the older primary is a control socket of this test process
 * that refuses `describe` as a primary of an older clusterkit does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterDescription, ClusterStatus, EventsPage } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlServer } from '../../src/control/control-server.js';
import { EventLog } from '../../src/control/event-log.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { killServices, startService } from '../runner/service-process.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

const controls: ControlServer[] = [];
const kSavedRuntime = process.env.XDG_RUNTIME_DIR;
afterEach(() => {
  for (const control of controls.splice(0)) control.close();
  if (kSavedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = kSavedRuntime;
  killServices();
  cleanUpCli();
});

describe('clusterkit show', () => {
  it('[H207][H363][H621] prints the settings in force (PM2 names beside them, clusterkit run\'s flags), env names without values, then the workers; describe --json gives them as fields', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'src/.keep': '' });
    mkdirSync(join(project, 'uploads'));
    const [port, healthPort] = [await freePort(), await freePort()];
    const run = startCli(
      [
        'run', `${process.cwd()}/examples/demo/server.js`, '-w', '2', '--name', 'shown', '--cwd', project,
        '--shutdown-timeout', '7s', '--ready-timeout', '9s', '--max-memory', '256M', '--max-restarts', '4',
        '--env', 'API_KEY=hunter2-secret', '--env', 'PORT_NAME=x', '--health-port', String(healthPort), '--health-host', '127.0.0.1', '--health-min-ready', '2',
        '--watch', join(project, 'src'), '--ignore-watch', 'uploads', '--node-arg=--max-old-space-size=300', '--', '--flag',
      ],
      { runtime, env: { PORT: String(port) } },
    );
    await run.waitFor(/service shown started: 2 workers/);

    const text = await cli(['show', 'shown'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const lines = text.stdout;
    expect(lines).toMatch(new RegExp(`^cluster shown  pid ${run.child.pid}  running  up \\S+  workers 2/2  node ${process.version}\\n`));
    expect(lines).toContain(`\nscript ${process.cwd()}/examples/demo/server.js  cwd ${project}\n`);
    expect(lines).toContain('\nexec mode         cluster (node:cluster workers sharing the listening ports; PM2: exec_mode)\n');
    expect(lines).toContain('\ninstances         2 at start: --workers 2 on the command line; now 2, at most 64 (--max-workers)\n');
    expect(lines).toContain('\nscript args       --flag\n');
    expect(lines).toMatch(new RegExp(`\\nnode              ${process.version}  execArgv (\\S+ )*--max-old-space-size=300\\n`));
    expect(lines).toMatch(new RegExp(`\\nprimary           pid ${run.child.pid}, up \\S+\\n`));
    expect(lines).toContain("\nshutdown timeout  7s (PM2: kill_timeout; a stopping worker's requests get up to 5.25s)\n");
    expect(lines).toContain('\nready timeout     9s (PM2: listen_timeout)\n');
    expect(lines).toContain('\nmemory limit      256 MiB (PM2: max_memory_restart)\n');
    expect(lines).toContain('\nrestarts          backoff 100ms, ×2 each time, up to 30s; reset once a worker was ready 30s (stableAfter)\n');
    expect(lines).toContain('\ncrash loop        4 restarts in 1m 0s, or 3 startup failures in a row (PM2: max_restarts; startup window 1s, PM2: min_uptime)\n');
    expect(lines).toContain('\nheartbeat         every 1s, a worker silent 10s is killed (--heartbeat-timeout)\n');
    expect(lines).toContain(`\nwatch             on: ${join(project, 'src')}, ignoring uploads; a reload 300ms after the last change\n`);
    expect(lines).toContain("\nlog files         none: the output goes to the primary's stdout and stderr (clusterkit logs shown); --output, --error, --log (outFile, errorFile, logFile) write it to files\n");
    // [H621] What /readyz needs (retest t61: not shown, a 503 with 1 worker ready was a puzzle).
    expect(lines).toContain(`\nhealth            http://127.0.0.1:${healthPort} (/healthz, /readyz: ready with 2 ready workers or more, /metrics)\n`);
    expect(lines).toContain('\nenv               API_KEY, PORT_NAME (names only: values are not shown)\n');
    expect(lines).toMatch(/\nid +pid +slot +state +uptime +restarts +crashes +rss +heap +loop mean\/p99 +cpu +msgs in\* +msgs out\*\n/);
    expect(lines).not.toContain('hunter2');

    const json = await cli(['describe', 'shown', '--json'], { runtime });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('hunter2');
    const parsed = JSON.parse(json.stdout) as ClusterDescription;
    // Its texts name its flags (H363).
    expect(parsed).toMatchObject({ name: 'shown', pid: run.child.pid, state: 'running', targetWorkers: 2, cwd: project, optionNames: 'flags' });
    expect(parsed.workers).toHaveLength(2);
    expect(parsed.settings).toMatchObject({
      execMode: 'cluster',
      scriptArgs: ['--flag'],
      instances: { atStart: 2, reason: '--workers 2 on the command line' },
      shutdownTimeoutMs: 7_000,
      readyTimeoutMs: 9_000,
      waitReady: false,
      maxMemoryMb: 256,
      restart: { maxRestarts: 4, windowMs: 60_000, maxStartupFailures: 3, backoff: { initialMs: 100 } },
      heartbeat: { intervalMs: 1_000 },
      watch: { paths: [join(project, 'src')], ignore: ['uploads'], delayMs: 300 },
      health: { host: '127.0.0.1', port: healthPort, minReady: 2 },
      envNames: ['API_KEY', 'PORT_NAME'],
      ignoredPm2Keys: [],
    });
    expect(parsed.settings.execArgv).toContain('--max-old-space-size=300');

    // A name that does not run: exit 4 (H224), the names that do, and the nearest one.
    const typo = await cli(['show', 'shwn'], { runtime });
    expect(typo).toMatchObject({ code: 4, stdout: '' });
    expect(typo.stderr).toBe('clusterkit: No cluster named "shwn" is running. Running: "shown". Did you mean "shown"?\n');
    expect((await cli(['stop', 'shown'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H236] hides the values of secret-looking flags in the script args and Node args, in the text and in --json, as it hides env values', async () => {
    const runtime = runtimeDir();
    const run = startCli(
      ['run', `${process.cwd()}/examples/demo/server.js`, '-w', '1', '--name', 'secretive', '--node-arg=--title=shown-title', '--', '--password', 'SUPERSECRET1', '--api-key=SUPERSECRET2', '--token', '--verbose', '--port', '80'],
      { runtime, env: { PORT: String(await freePort()) } },
    );
    await run.waitFor(/service secretive started: 1 worker/);
    const text = await cli(['show', 'secretive'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    // Before: "script args       --password SUPERSECRET1 --api-key=SUPERSECRET2 ...".
    expect(text.stdout).not.toContain('SUPERSECRET');
    expect(text.stdout).toContain("\nscript args       --password '<hidden>' --api-key='<hidden>' --token --verbose --port 80 (secret-looking values are not shown)\n");
    expect(text.stdout).toMatch(/execArgv (\S+ )*--title=shown-title\n/);
    const json = await cli(['show', 'secretive', '--json'], { runtime });
    expect(json.stdout).not.toContain('SUPERSECRET');
    const description = JSON.parse(json.stdout) as ClusterDescription;
    expect(description.settings.scriptArgs).toEqual(['--password', '<hidden>', '--api-key=<hidden>', '--token', '--verbose', '--port', '80']);
  });

  // Before (retester): the query's password, the userinfo's and the headers printed in full.
  it('[H252] hides URL passwords, secret query values and secret headers in the script args and Node args, keeping the rest, in the text and in --json', async () => {
    const runtime = runtimeDir();
    const run = startCli(
      [
        'run', `${process.cwd()}/examples/demo/server.js`, '-w', '1', '--name', 'urls', '--node-arg=--title=https://x/?token=SECRETNODE1',
        '--', '--db', 'postgres://u:SECRETPW1@h/db?password=SECRETPW2&sslmode=require', '-H', 'Authorization: Bearer SECRETTOKEN3', '--header', 'X-Api-Key: SECRETKEY4', '-H', 'Accept: text/plain',
      ],
      { runtime, env: { PORT: String(await freePort()) } },
    );
    await run.waitFor(/service urls started: 1 worker/);
    const text = await cli(['show', 'urls'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).not.toContain('SECRET');
    expect(text.stdout).toContain(
      "\nscript args       --db 'postgres://u:<hidden>@h/db?password=<hidden>&sslmode=require' -H 'Authorization: <hidden>' --header 'X-Api-Key: <hidden>' -H 'Accept: text/plain' (secret-looking values are not shown)\n",
    );
    expect(text.stdout).toMatch(/execArgv (\S+ )*'--title=https:\/\/x\/\?token=<hidden>' \(secret-looking values are not shown\)\n/);
    const json = await cli(['show', 'urls', '--json'], { runtime });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('SECRET');
    const description = JSON.parse(json.stdout) as ClusterDescription;
    expect(description.settings.scriptArgs).toEqual(['--db', 'postgres://u:<hidden>@h/db?password=<hidden>&sslmode=require', '-H', 'Authorization: <hidden>', '--header', 'X-Api-Key: <hidden>', '-H', 'Accept: text/plain']);
    expect(description.settings.execArgv).toContain('--title=https://x/?token=<hidden>');
  });

  // Before (PM2 retester t29 N6): `line1fake   row` and `esc[31mred`, in the text and in --json
  // (the answer's control characters were dropped on arrival), and the arguments joined unquoted.
  it('[H279] keeps control characters of the arguments: --json gives the real strings, the text row quotes each argument and escapes them; secrets stay hidden', async () => {
    const runtime = runtimeDir();
    const args = ['line1\nfake   row', 'esc\x1b[31mred', "it's", '-H', 'Authorization: Bearer SECRET9\nX: y', 'plain'];
    const run = startCli(['run', `${process.cwd()}/examples/demo/server.js`, '-w', '1', '--name', 'ctl', '--', ...args], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service ctl started: 1 worker/);
    const text = await cli(['show', 'ctl'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).not.toContain('SECRET');
    expect(text.stdout).not.toContain('\x1b');
    expect(text.stdout).toContain(
      "\nscript args       $'line1\\nfake   row' $'esc\\e[31mred' 'it'\\''s' -H $'Authorization: <hidden>\\nX: y' plain (secret-looking values are not shown)\n",
    );
    const json = await cli(['show', 'ctl', '--json'], { runtime });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('SECRET');
    expect(json.stdout).not.toContain('\x1b');
    const description = JSON.parse(json.stdout) as ClusterDescription;
    expect(description.settings.scriptArgs).toEqual(['line1\nfake   row', 'esc\x1b[31mred', "it's", '-H', 'Authorization: <hidden>\nX: y', 'plain']);
    // The rest of the answer is stripped as before: the name and the header stay one line each.
    expect(text.stdout.split('\n')[0]).toMatch(/^cluster ctl  pid \d+  running/);
  });

  // Before: `log files  none: the output goes to ...` as if the file had set none, and
  // `(PM2: max_restarts; ...)` beside a bound the file's max_restarts: 0 did not set.
  it("[H243] names a PM2 file's keys that were not used on the rows PM2's names label (log files, max_restarts: 0, exec_mode, autorestart), the others on a row of their own, in the text and --json", async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': "require('node:http').createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');\n",
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'eco243', script: 'server.cjs', instances: 1, exec_mode: 'fork', disable_logs: true, merge_logs: false, max_restarts: 0, autorestart: false, namespace: 'billing', env: { PORT: '${await freePort()}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service eco243 started: 1 worker/);
    const text = await cli(['show', 'eco243'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const always = 'a crashed worker is always restarted (with backoff), so the pool keeps its size';
    expect(text.stdout).toContain(`\nexec mode         cluster (node:cluster workers sharing the listening ports); PM2's exec_mode ("fork") is not used: clusterkit always runs in cluster mode: `);
    expect(text.stdout).toContain(`; reset once a worker was ready 30s (stableAfter); PM2's autorestart (false) is not used: ${always}; the app itself, run with other apps of this file, is not started again when its primary exits (docs/config.md, "Running the apps")\n`);
    expect(text.stdout).toContain(
      `\ncrash loop        10 restarts in 1m 0s, or 3 startup failures in a row (startup window 1s, PM2: min_uptime); PM2's max_restarts (0) is not used: ${always}; the bound that applies is maxStartupFailures, `,
    );
    expect(text.stdout).not.toContain('PM2: max_restarts');
    expect(text.stdout).toContain(
      // Since H314 out_file, error_file and log_file are used (log-files.test.ts), and merge_logs is accepted silently.
      `\nlog files         none: the output goes to the primary's stdout and stderr (clusterkit logs eco243); --output, --error, --log (outFile, errorFile, logFile) write it to files; PM2's disable_logs (true) is not used: the output always goes to clusterkit run's stdout and stderr (and to clusterkit logs <name>); for no log file, leave out outFile, errorFile and logFile (out_file, error_file, log_file)\n`,
    );
    // cron_restart is used since H377 (cron-restart.test.ts).
    expect(text.stdout).toContain(`\nnot used          PM2's namespace ("billing") is not used: a cluster is known by its name alone (clusterkit list); give related apps a common prefix\n`);

    const json = await cli(['show', 'eco243', '--json'], { runtime });
    const { settings } = JSON.parse(json.stdout) as ClusterDescription;
    expect(settings.ignoredPm2Keys.map(({ key, value }) => [key, value])).toEqual([
      ['exec_mode', '"fork"'], ['disable_logs', 'true'], ['max_restarts', '0'], ['autorestart', 'false'], ['namespace', '"billing"'],
    ]);
    expect(settings.ignoredPm2Keys[1]!.instead).toMatch(/^the output always goes to clusterkit run's stdout and stderr/);
    expect(settings.ignoredPm2Keys[2]!.instead).toContain('the bound that applies is maxStartupFailures');
    expect((await cli(['stop', 'eco243'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  // Before: `at most 3 (--max-workers)`, `(stableAfter)` and `clusterkit logs <name>`, `--output`
  // of a primary whose code passed maxWorkers: 3, which has no such flag nor log.
  it('[H363][H372] a primary of the user\'s own code (new ClusterPrimary, startClusteredService, with a serviceName): show names the options its code passed (maxWorkers, restart.stableAfterMs), no clusterkit run flag; status and show --json say optionNames "api"', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    const primary = testPrimary({ workerCount: 1, maxWorkers: 3, serviceName: 'libshow' });
    await primary.start();

    const text = await cli(['show', 'libshow'], { runtime });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('\ninstances         1 at start: the "workerCount" option; now 1, at most 3 (maxWorkers)\n');
    expect(text.stdout).toContain('; reset once a worker was ready 30s (restart.stableAfterMs)\n');
    // Its heartbeat option, not run's flag (H372: `(--heartbeat-timeout)`).
    expect(text.stdout).toContain('\nheartbeat         every 1s, a worker silent 10s is killed (heartbeat.timeoutMs)\n');
    expect(text.stdout).toContain(
      '\nlog files         none kept by clusterkit: the workers\' output goes to the primary process\'s stdout and stderr, or where its code pipes it (the "silent" and "stdio" options); clusterkit logs reads only the clusters clusterkit run started\n',
    );
    for (const flag of ['--max-workers', '(stableAfter)', '--output', 'clusterkit logs libshow', '--wait-ready', '--heartbeat-timeout']) expect({ flag, shown: text.stdout.includes(flag) }).toEqual({ flag, shown: false });
    expect((JSON.parse((await cli(['show', 'libshow', '--json'], { runtime })).stdout) as ClusterDescription).optionNames).toBe('api');
    expect((JSON.parse((await cli(['status', 'libshow', '--json'], { runtime })).stdout) as ClusterStatus).optionNames).toBe('api');
    await primary.shutdown();

    // startClusteredService: the same, from a process of its own.
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ serviceName: 'svcshow', workers: 1, maxWorkers: 5 }), PORT: String(await freePort()), XDG_RUNTIME_DIR: runtime });
    await service.waitForLines('started');
    const served = await cli(['show', 'svcshow'], { runtime });
    expect(served).toMatchObject({ code: 0, stderr: '' });
    expect(served.stdout).toMatch(/\ninstances         1 at start: [^\n]*; now 1, at most 5 \(maxWorkers\)\n/);
    expect(served.stdout).toContain('(restart.stableAfterMs)\n');
    expect(served.stdout).not.toContain('--max-workers');
    expect((JSON.parse((await cli(['status', 'svcshow', '--json'], { runtime })).stdout) as ClusterStatus).optionNames).toBe('api');
    expect((await cli(['stop', 'svcshow'], { runtime })).code).toBe(0);
  });

  // Before: `last failure: Worker 3 (slot 0) was not ready within 1000 ms (option "readyTimeoutMs")`
  // in status and on the dashboard, of a cluster started with --ready-timeout 1s.
  it('[H363] a clusterkit run cluster\'s given-up slot: status, show and the events the dashboard shows name its flag (option --ready-timeout), as its log does', async () => {
    const runtime = runtimeDir();
    const flag = join(tempProject({}), 'broken');
    // 4 s, not 1 s: the first start must be ready within it on a machine loaded past its cores
    // (an under-load run at load average 16: every first worker took over 1 s to load).
    const run = startCli(['run', 'test/fixtures/cli-fails-on-reload.mjs', '-w', '2', '--name', 'rtflags', '--ready-timeout', '4s'], {
      runtime,
      env: { CLI_FIXTURE_FLAG: flag, CLI_FIXTURE_HANG: '1' },
    });
    await run.waitFor(/service rtflags started: 2 workers/, 60_000);
    writeFileSync(flag, '');
    process.kill(readyPids(run)[0]!, 'SIGKILL');
    const [giveUp] = await run.waitFor(/ERROR worker slot \d could not start 3 times in a row[^\n]*/, 90_000);
    expect(giveUp).toContain('(option --ready-timeout)');

    const status = await cli(['status', 'rtflags'], { runtime });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\nerrored: slot \d given up \S+ ago \(crash loop: 3 failed starts in a row\); last failure: worker \d+ \(pid \d+\) was not ready within 4000 ms \(option --ready-timeout\), so it was killed/);
    const show = await cli(['show', 'rtflags'], { runtime });
    expect(show.stdout).toContain('(option --ready-timeout)');
    const json = JSON.parse((await cli(['status', 'rtflags', '--json'], { runtime })).stdout) as ClusterStatus;
    expect(json.optionNames).toBe('flags');
    expect(json.givenUpSlots![0]!.lastFailure).toContain('(option --ready-timeout)');
    const { events } = (await controlRequest('rtflags', 'events', { directory: join(runtime, 'clusterkit'), after: 0 })) as EventsPage;
    expect(events.find((event) => event.type === 'crashLoop')?.error).toContain('(option --ready-timeout)');
    for (const text of [status.stdout, show.stdout, JSON.stringify(json), JSON.stringify(events)]) expect(text).not.toContain('readyTimeoutMs');
    expect((await cli(['stop', 'rtflags'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H207][H736] no cluster running (exit 4, H224), bad usage (exit 2): a message, naming where it looked', async () => {
    const runtime = runtimeDir();
    // Newcomer t82 #7: run with another XDG_RUNTIME_DIR, a running cluster was "not running", and nothing said where it had looked.
    expect(await cli(['show', 'api'], { runtime })).toMatchObject({
      code: 4,
      stdout: '',
      stderr: `clusterkit: No cluster named "api" is running. No cluster is running (for this user; looked in ${runtime}/clusterkit ($XDG_RUNTIME_DIR/clusterkit): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen); start one with "clusterkit run".\n`,
    });
    expect(await cli(['describe'], { runtime })).toMatchObject({ code: 2, stderr: expect.stringMatching(/^clusterkit: Missing the cluster name\. No cluster is running \(for this user; looked in [^\n]*\/clusterkit \(\$XDG_RUNTIME_DIR\/clusterkit\): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen\); start one with "clusterkit run"\.\nUsage: clusterkit show <name>/) });
    expect(await cli(['show', 'a', 'b'], { runtime })).toMatchObject({ code: 2, stderr: expect.stringContaining('Unexpected argument "b".') });
    expect(await cli(['show', '--help'], { runtime })).toMatchObject({ code: 0, stdout: expect.stringContaining('(PM2\'s kill_timeout)') });
  });

  it('[H207] a primary of an older clusterkit, which refuses "describe": a clear message naming status, exit 1, and no crash of the primary', async () => {
    const runtime = runtimeDir();
    const status = { name: 'old', pid: process.pid, state: 'running', startedAt: 0, uptimeMs: 1, script: 'x.js', targetWorkers: 0, nodeVersion: process.version, workers: [], protocolErrors: 0 };
    const log = new EventLog();
    controls.push(
      await startControlServer(
        'old',
        { status: () => status as ClusterStatus, reload: async () => ({}), scale: async () => status, stop: async () => ({}), afterStop: () => {}, events: (after) => log.read(after) },
        join(runtime, 'clusterkit'),
      ),
    );
    expect(await cli(['show', 'old'], { runtime })).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'clusterkit: The cluster "old" does not know the control command "describe": its primary runs an older clusterkit. ' +
        '"clusterkit status old" shows its workers; its settings are shown once it runs this clusterkit (restart it with it).\n',
    });
    // It still answers.
    expect((await cli(['status', 'old'], { runtime })).code).toBe(0);
  });
});
