/**
 * examples/pm2-ecosystem: a PM2 ecosystem file run unchanged, with real processes. Its PM2 keys
 * are translated (instances, args as one string, wait_ready, kill_timeout, env_production with
 * --env production), and each key clusterkit does without is one warning line, said once even
 * though each app runs in its own primary. The translation of each key, and the refusals, are
 * checked in pm2-hints.test.ts.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { autoWorkerCount } from '../../src/primary/pool/cpu-limit.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kExample = join(kRepoRoot, 'examples/pm2-ecosystem');

interface Answer {
  greeting: string;
  mode: string;
  nodeEnv: string | null;
  instance: string;
  pid: number;
}

async function ask(port: number): Promise<Answer> {
  return JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as Answer;
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('examples/pm2-ecosystem', () => {
  it('[H119][H168] runs a PM2 ecosystem file: both apps, env_production with --env production, one warning line per key without an equivalent', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'ecosystem.config.cjs', '--env', 'production'], { runtime, cwd: kExample, env: { PORT: String(port), NODE_ENV: '' } });
    // instances: 2; the jobs app, without instances, is one process as under PM2.
    await run.waitFor(/service api started: 2 workers/);
    await run.waitFor(/service jobs started: 1 worker /);
    await run.waitFor(/\[jobs:1\] processed job 1\n/);
    const answers = [await ask(port), await ask(port)];
    for (const answer of answers) {
      // args: '--greeting "hello there"' is split as PM2 splits it; env_production over env.
      expect(answer).toMatchObject({ greeting: 'hello there', mode: 'production', nodeEnv: 'production' });
      expect(['0', '1']).toContain(answer.instance);
    }
    // wait_ready: the worker was ready on its process.send('ready'), and no warning said it went unheard.
    expect(run.output()).not.toMatch(/process\.send\('ready'\) \(PM2's wait_ready\), but/);
    const file = join(kExample, 'ecosystem.config.cjs');
    const stderr = run.stderr();
    for (const line of [
      `clusterkit: warning: ${file}: apps[1] ("jobs"): PM2's "exec_mode" ("fork") has no equivalent, and is not used: clusterkit always runs in cluster mode`,
      `clusterkit: warning: ${file}: app "jobs" has no "env_production": it runs with its "env" alone`,
    ]) {
      expect(count(stderr, line)).toBe(1);
    }
    // [H377] cron_restart is used (a rolling reload at 03:00), not warned about.
    expect(count(stderr, 'warning:')).toBe(2);
    expect(stderr).not.toContain('cron_restart');
    // [H168] kill_timeout is used, not warned about: one line says what it gives requests.
    expect(count(stderr, `clusterkit: ${file}: apps[0] ("api"): PM2's "kill_timeout" (5000 ms) is the shutdown timeout: a stopping worker's requests get 3750 ms`)).toBe(1);
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    // kill_timeout: 5000 is the shutdown timeout.
    expect(run.output()).toMatch(/\[api\] shutting down signal=SIGINT timeoutMs=5000/);
    expect(run.output()).toMatch(/\[api\] shutdown complete graceful=2 failed=0 killed=0/);
    expect(run.output()).toMatch(/\[jobs\] shutdown complete graceful=1 failed=0 killed=0/);
  });

  it("[H119] runs one app of it by name, with its env alone, and says nothing of the other app's keys", async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'ecosystem.config.cjs', 'api', '-w', '1'], { runtime, cwd: kExample, env: { PORT: String(port) } });
    await run.waitFor(/service api started: 1 worker /);
    expect(await ask(port)).toMatchObject({ greeting: 'hello there', mode: 'development', instance: '0' });
    expect(run.stderr()).not.toContain('warning:');
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
  });

  // Before: kill_timeout became the shutdown timeout without a word, and a PM2 user expecting
  // 5 s for requests saw them cut off at 3.75 s (tester t21).
  it('[H168] says once, at load, what kill_timeout gives requests; nothing when --shutdown-timeout replaces it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'ecosystem.config.cjs', 'api', '-w', '1'], { runtime, cwd: kExample, env: { PORT: String(port) } });
    await run.waitFor(/service api started: 1 worker /);
    const note = `clusterkit: ${join(kExample, 'ecosystem.config.cjs')}: apps[0] ("api"): PM2's "kill_timeout" (5000 ms) is the shutdown timeout: a stopping worker's requests get 3750 ms (its own deadline comes 1250 ms before the SIGKILL at 5000 ms), where PM2 gives them all 5000 ms; kill_timeout: 6667 gives them 5000 ms.\n`;
    expect(count(run.stderr(), note)).toBe(1);
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    const replaced = startCli(['run', 'ecosystem.config.cjs', 'api', '-w', '1', '--shutdown-timeout', '3s'], { runtime, cwd: kExample, env: { PORT: String(port) } });
    await replaced.waitFor(/service api started: 1 worker /);
    process.kill(replaced.child.pid!, 'SIGINT');
    await expect(replaced.exited()).resolves.toBe(0);
    expect(replaced.output()).toMatch(/\[api\] shutting down signal=SIGINT timeoutMs=3000/);
    expect(replaced.stderr()).not.toContain('kill_timeout');
  });
});

describe('an ecosystem file, in the primary\'s lines', () => {
  it('[H146] names the key the file wrote, with the flag, for a value that came from the file', async () => {
    const runtime = runtimeDir();
    const script = JSON.stringify(join(kRepoRoot, 'test/fixtures/cli-wait-ready.mjs'));
    const project = tempProject({
      'wr.config.cjs': `module.exports = { apps: [{ name: 'wr', script: ${script}, instances: 1, wait_ready: true, listen_timeout: 1000, max_restarts: 1, env: { PORT: '${await freePort()}', WARM_MS: '600000' } }] };\n`,
    });
    const run = startCli(['run', 'wr.config.cjs'], { runtime, cwd: project });
    await expect(run.exited()).resolves.toBe(1);
    // Before: "(option --ready-timeout)", a flag the user never typed.
    expect(run.output()).toContain('was not ready within 1000 ms (option --ready-timeout; listen_timeout in wr.config.cjs)');
  });

  // PM2 migrator t39 L1: `watch: ['src']` with no src/ said `clusterkit: --watch: no such file or directory: .../src`.
  it('[H404] a watched path the file names that does not exist: the message names the file\'s key, not --watch; a --watch that replaces it is named as the flag', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': "require('node:http').createServer((q, r) => r.end()).listen(0);\n",
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'wmiss', script: './server.cjs', watch: ['src'] }] };\n",
    });
    const fromFile = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toMatch(/^clusterkit: watch in ecosystem\.config\.cjs: no such file or directory: \/\S+\/src\n/m);
    const fromFlag = await cli(['run', 'ecosystem.config.cjs', '--watch=lib'], { runtime, cwd: project });
    expect(fromFlag.code).toBe(2);
    expect(fromFlag.stderr).toMatch(/^clusterkit: --watch: no such file or directory: \/\S+\/lib\n/m);
  });
});

describe('odd PM2 values, said at load', () => {
  const kServer = "require('node:http').createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT));\n";

  async function project(app: string): Promise<string> {
    return tempProject({ 'server.cjs': kServer, 'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'odd', script: './server.cjs', ${app}, env: { PORT: '${await freePort()}' } }] };\n` });
  }

  // Before: instances: -5 on 2 CPUs started 1 worker, and the only line said "the configured count" (tester t22).
  it('[H183] warns that a negative instances PM2 raises to 1 gives 1 worker, and how many CPUs there are; nothing when -w replaces it', async () => {
    const runtime = runtimeDir();
    const cwd = await project('instances: -1000');
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd });
    await run.waitFor(/service odd started: 1 worker /);
    const cpus = autoWorkerCount();
    const line = `clusterkit: warning: ${join(cwd, 'ecosystem.config.cjs')}: apps[0] ("odd"): PM2's "instances" (-1000) is every CPU but 1000, and this machine has ${cpus} CPU${cpus === 1 ? '' : 's'}: 1 worker, the fewest (PM2 raises it to 1 too). Write instances: 1 for one worker, or "max" for one per CPU.\n`;
    expect(count(run.stderr(), line)).toBe(1);
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    const replaced = startCli(['run', 'ecosystem.config.cjs', '-w', '2'], { runtime, cwd });
    await replaced.waitFor(/service odd started: 2 workers /);
    process.kill(replaced.child.pid!, 'SIGINT');
    await expect(replaced.exited()).resolves.toBe(0);
    expect(replaced.stderr()).not.toContain('"instances"');
  });

  // Before: both started with "starting 1 worker: the configured count", a count the file never wrote.
  it('[H203] the start line says where the count came from: the negative instances and what it counts, or PM2\'s one process without instances', async () => {
    const runtime = runtimeDir();
    const cpus = autoWorkerCount();
    const negative = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: await project('instances: -1000') });
    await negative.waitFor(/service odd started: 1 worker /);
    process.kill(negative.child.pid!, 'SIGINT');
    await expect(negative.exited()).resolves.toBe(0);
    expect(count(negative.stderr(), `[odd] starting 1 worker: instances: -1000 in ecosystem.config.cjs, every CPU but 1000, and at least 1 (${cpus} CPU${cpus === 1 ? '' : 's'} here) workers=1\n`)).toBe(1);
    const left = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: await project("watch: false") });
    await left.waitFor(/service odd started: 1 worker /);
    process.kill(left.child.pid!, 'SIGINT');
    await expect(left.exited()).resolves.toBe(0);
    expect(count(left.stderr(), '[odd] starting 1 worker: no "instances" in ecosystem.config.cjs, one process, as PM2 runs it workers=1\n')).toBe(1);
    expect(negative.stderr() + left.stderr()).not.toContain('the configured count');
  });

  // Before: kill_timeout: 1 said "requests get 1 ms (its own deadline comes 0 ms before the SIGKILL at 1 ms)" (tester t22).
  it('[H184] warns that a kill_timeout under 200 ms cuts off the requests in flight, with no figures rounded to nonsense', async () => {
    const runtime = runtimeDir();
    const cwd = await project('kill_timeout: 1');
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd });
    await run.waitFor(/service odd started: 1 worker /);
    const line =
      `clusterkit: warning: ${join(cwd, 'ecosystem.config.cjs')}: apps[0] ("odd"): PM2's "kill_timeout" (1 ms) is the shutdown timeout, and under 200 ms a stopping worker cannot drain: ` +
      `it is killed (SIGKILL) before it ends on its own, and the requests in flight at a stop, reload or scale-down are cut off (its own deadline is 3/4 of the timeout, and the rest, under 50 ms, is shorter than a worker's exit on a busy machine). ` +
      `kill_timeout: 1600, PM2's default, gives them 1200 ms.\n`;
    expect(count(run.stderr(), line)).toBe(1);
    expect(run.stderr()).not.toContain('requests get');
    // A 1 ms shutdown timeout SIGKILLs the workers: the exit code says so, and is not checked here.
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
  });
});

describe("PM2's restart delays, said at load", () => {
  const kServer = "require('node:http').createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT));\n";

  // Before: "from 100 ms doubling up to 30 s" whatever the file's restartBackoff, which no line named (newcomer t24).
  it.each([
    ['states the back-off the same app sets with restartBackoff', 'restartBackoff: 300, ', "from 300 ms (this app's restartBackoff)"],
    ['names restartBackoff, the key that sets the back-off, in an app without it', '', 'from 100 ms (restartBackoff sets it)'],
  ])('[H214][H391] %s', async (_, backoff, from) => {
    const runtime = runtimeDir();
    const cwd = tempProject({
      'server.cjs': kServer,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'e2', script: './server.cjs', ${backoff}restart_delay: 500, exp_backoff_restart_delay: 100, env: { PORT: '${await freePort()}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd });
    await run.waitFor(/service e2 started: 1 worker /);
    const file = join(cwd, 'ecosystem.config.cjs');
    expect(count(run.stderr(), `clusterkit: warning: ${file}: apps[0] ("e2"): PM2's "restart_delay" (500) has no equivalent, and is not used: restarts back off on their own, ${from} doubling up to 30 s, reset once a worker stayed ready stableAfter (30 s unless set).\n`)).toBe(1);
    expect(count(run.stderr(), `clusterkit: warning: ${file}: apps[0] ("e2"): PM2's "exp_backoff_restart_delay" (100) has no equivalent, and is not used: restarts always back off, ${from} doubling up to 30 s, reset once a worker stayed ready stableAfter (30 s unless set), as PM2's is after 30 s up.\n`)).toBe(1);
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
  });
});

describe('an unknown name, answered with the nearest known one', () => {
  const kServer = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n";

  it('[H237] max_restarts: 1e20 is refused with the real bound, not as a number that is not whole', async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'eco', script: 'server.cjs', max_restarts: 1e20 }] };\n",
    });
    const { code, stderr } = await cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project });
    expect(code).toBe(2);
    // Before: "must be a whole number, 0 or more. Received 100000000000000000000", a whole number.
    expect(stderr).toContain('"apps[0].max_restarts" must be a whole number, 0 or more, at most Number.MAX_SAFE_INTEGER (9007199254740991). Received 100000000000000000000.');
  });

  it('[H198] a PM2 app\'s typo gets the PM2 key it misses, and a key far from any is listed against PM2\'s keys first', async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'eco', script: 'server.cjs', exec_mode: 'cluster', instaces: 2, kill_timout: 3000, colour: 'red' }] };\n",
    });
    const { code, stderr } = await cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project });
    expect(code).toBe(2);
    expect(stderr).toContain('  - app "eco": Unknown key "apps[0].instaces". Did you mean "instances"?\n');
    expect(stderr).toContain('  - app "eco": Unknown key "apps[0].kill_timout". Did you mean "kill_timeout"?\n');
    expect(stderr).toContain(
      '  - app "eco": Unknown key "apps[0].colour". Known keys: PM2\'s that clusterkit takes: name, script, args, node_args, interpreter_args, cwd, env, env_<name>, instances, ' +
        'max_memory_restart, max_restarts, min_uptime, cron_restart, kill_timeout, listen_timeout, wait_ready, watch, ignore_watch, watch_delay, log_type, log_date_format, time, port, source_map_support, instance_var, out_file, error_file, log_file; ' +
        "and clusterkit's own: nodeArgs, envFile, workers, maxWorkers, dev,",
    );
  });

  it('[H231] a near miss of an app suggests the command that runs it: with the config file named as it was, which only clusterkit.config.* can go without', async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'ecosystem.config.js': "module.exports = { apps: [{ name: 'nc25api', script: 'server.cjs' }, { name: 'nc25worker', script: 'server.cjs' }] };\n",
    });
    const runtime = runtimeDir();
    const refused = async (args: string[]) => {
      const { code, stderr } = await cli(args, { runtime, cwd: project });
      expect(code).toBe(2);
      return stderr;
    };
    // Before: "Did you mean clusterkit run nc25api?", which looked for a script named nc25api (newcomer t25).
    expect(await refused(['run', 'ecosystem.config.js', 'nc25ap'])).toContain('(apps: nc25api, nc25worker). Did you mean clusterkit run ecosystem.config.js nc25api?');
    expect(await refused(['run', 'nc25ap', '--config', 'ecosystem.config.js'])).toContain(`Did you mean clusterkit run nc25api --config ${join(project, 'ecosystem.config.js')}?`);
    expect(await refused(['run', 'ecosystem.config.js', '--name', 'one'])).toContain('run one with "clusterkit run ecosystem.config.js <app>".');
  });

  it('[H198][H467] a clusterkit file\'s near miss of a PM2 key names clusterkit\'s key; the app, the --env name and the flags get theirs', async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'clusterkit.config.cjs': "module.exports = { apps: [{ name: 'api', script: 'server.cjs', max_memory_restar: '512M' }] };\n",
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'api', script: 'server.cjs', instances: 1, env_production: { A: '1' } }] };\n",
    });
    const runtime = runtimeDir();
    const refused = async (args: string[]) => {
      const { code, stderr } = await cli(args, { runtime, cwd: project });
      expect(code).toBe(2);
      return stderr;
    };
    expect(await refused(['run'])).toContain('Unknown key "apps[0].max_memory_restar". Did you mean "maxMemory" (PM2\'s "max_memory_restart")?');
    expect(await refused(['run', 'ecosystem.config.cjs', 'apu'])).toContain('"apu" is neither a script nor an app of');
    expect(await refused(['run', 'ecosystem.config.cjs', 'apu'])).toContain('(apps: api). Did you mean clusterkit run ecosystem.config.cjs api?');
    expect(await refused(['run', 'ecosystem.config.cjs', '--env', 'producton'])).toContain('its apps have "env_production"). Did you mean --env production? --env <name> picks');
    // The start of a name is taken too (newcomer tester t50).
    expect(await refused(['run', 'ecosystem.config.cjs', '--env', 'prod'])).toContain('its apps have "env_production"). Did you mean --env production? --env <name> picks');
    expect(await refused(['run', 'server.cjs', '--kill-timout', '5000'])).toContain(
      'Unknown option --kill-timout. Did you mean --kill-timeout? PM2\'s --kill-timeout is --shutdown-timeout here: --shutdown-timeout 5s',
    );
    expect(await refused(['--verison'])).toContain('Unknown option --verison. Did you mean --version?');
  });
});

describe("PM2's instance_var", () => {
  /** Each worker says its slot as each variable holds it. */
  const kSlotScript = `
require('node:http').createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1');
console.log('slot vars', process.env.NODE_APP_INSTANCE, process.env.INSTANCE_ID, process.env.CLUSTERKIT_SLOT);
`;

  // Before: a warning ("has no equivalent, and is not used"), and INSTANCE_ID undefined in the workers.
  it('[H409] instance_var: "INSTANCE_ID" holds each worker\'s slot, as NODE_APP_INSTANCE does, with no warning; a name clusterkit owns, or no variable name, is refused', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.cjs': kSlotScript,
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'iv', script: 'server.cjs', instances: 2, instance_var: 'INSTANCE_ID' }] };",
      'own.config.cjs': "module.exports = { apps: [{ name: 'iv-own', script: 'server.cjs', instance_var: 'CLUSTERKIT_SLOT' }] };",
      'bad.config.cjs': "module.exports = { apps: [{ name: 'iv-bad', script: 'server.cjs', instance_var: 'INSTANCE ID' }] };",
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service iv started: 2 workers/);
    await run.waitFor(/\[iv:\d+\] slot vars 0 0 0\n/);
    await run.waitFor(/\[iv:\d+\] slot vars 1 1 1\n/);
    expect(run.stderr()).not.toContain('instance_var');
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);

    const own = await cli(['run', 'own.config.cjs'], { runtime, cwd: project });
    expect(own.code).toBe(2);
    expect(own.stderr).toContain(`"apps[0].instance_var" names CLUSTERKIT_SLOT, one of clusterkit's own variables, which the primary sets itself in each worker: name a variable of your own, as "INSTANCE_ID", or leave "instance_var" out`);
    const bad = await cli(['run', 'bad.config.cjs'], { runtime, cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"apps[0].instance_var" must be an environment variable name (letters, digits and _, not starting with a digit), as "INSTANCE_ID": each worker gets its slot (0, 1...) in it. Received "INSTANCE ID".');
  });
});

describe('an app of an ecosystem file named alone (pm2 tester t53)', () => {
  it('[H497] run <app> beside an ecosystem file and no clusterkit.config.* says the command that runs its app; --only says the same shape', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'pm2api', script: './server.js' }] };\n", 'server.js': 'setInterval(() => {}, 1 << 30);\n' });
    // Before: "Script not found: .../pm2api (relative to the current directory; ...)", naming neither the file nor the command.
    const alone = await cli(['run', 'pm2api'], { runtime, cwd: project });
    expect(alone).toMatchObject({ code: 2, stdout: '' });
    expect(alone.stderr).toContain('clusterkit: "pm2api" is not a script here, and no clusterkit.config.* is here to have an app of that name. ecosystem.config.cjs is here: if "pm2api" is an app of it, type clusterkit run ecosystem.config.cjs pm2api (clusterkit run ecosystem.config.cjs runs all its apps');
    const only = await cli(['run', 'ecosystem.config.cjs', '--only', 'pm2api'], { runtime, cwd: project });
    expect(only).toMatchObject({ code: 2 });
    expect(only.stderr).toContain("PM2's --only is a positional here: clusterkit run ecosystem.config.js <app> runs that app of the file");
    // A script's path keeps its own message.
    expect((await cli(['run', 'missing.js'], { runtime, cwd: project })).stderr).toContain('Script not found: ');
  });
});
