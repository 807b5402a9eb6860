/**
 * The CLI in a PM2 user's words: PM2's commands and options get their clusterkit names, a
 * near miss never becomes `stop`, messages from the library name flags rather than API options,
 * and a relative script is found in --cwd as PM2 finds it. Pure functions here; the CLI as a
 * process in usage.test.ts and limits.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'eventemitter3';
import { checkConfig } from '../../src/cli/config/check-config.js';
import { autoWorkerCount } from '../../src/primary/pool/cpu-limit.js';
import { configNameOf } from '../../src/cli/config/config-file.js';
import { inFlagNames, withFlagNames } from '../../src/cli/flag-names.js';
import { kCommandNames } from '../../src/cli/help.js';
import { commandHint, optionHint } from '../../src/cli/pm2-hints.js';
import { findScript, scriptNotFound } from '../../src/cli/script-path.js';
import { kRunOptions } from '../../src/cli/run-flags.js';
import type { Logger } from '../../src/logger.js';
import type { ClusterPrimary } from '../../src/primary/cluster-primary.js';
import { attachPrimaryLogging } from '../../src/primary/primary-logging.js';

const runFlags = Object.keys(kRunOptions).map((name) => `--${name}`);

describe('PM2 hints', () => {
  it("names PM2's commands in clusterkit's words", () => {
    expect(commandHint('restart', kCommandNames)).toBe(` PM2's "restart" is "reload": clusterkit reload <name> replaces the workers one by one, with no downtime (or stop it, then run it again; an app of a config file alone: clusterkit run <config file> <name>).`);
    expect(commandHint('start', kCommandNames)).toMatch(/^ PM2's "start" is "run": clusterkit run app\.js/);
    expect(commandHint('delete', kCommandNames)).toMatch(/^ PM2's "delete" is "stop": clusterkit stop <name>/);
    expect(commandHint('monit', kCommandNames)).toMatch(/clusterkit dashboard <name> .*clusterkit status <name> --watch/);
    expect(commandHint('jlist', kCommandNames)).toBe(` PM2's "jlist" is "list --json": clusterkit list --json.`);
    expect(commandHint('flush', kCommandNames)).toMatch(/^ PM2's "flush" is not needed: the last lines .*: > app\.log/);
    // Not PM2's, and not inherited from Object.prototype.
    expect(commandHint('toString', kCommandNames)).toBe(` Commands: ${kCommandNames.join(', ')}.`);
  });

  it('never suggests stop for a near miss, and still corrects other typos', () => {
    for (const typed of ['stp', 'sop', 'stoq', 'shop', 'top']) expect(commandHint(typed, kCommandNames)).not.toContain('"stop"');
    expect(commandHint('staus', kCommandNames)).toBe(' Did you mean "status"?');
    expect(commandHint('relod', kCommandNames)).toBe(' Did you mean "reload"?');
  });

  it("names PM2's run options in clusterkit's words, and near misses of its own", () => {
    expect(optionHint('-i', 'run', runFlags)).toMatch(/^ PM2's -i is -w \(--workers\) here: -w 4, or -w max \(one per core/);
    expect(optionHint('--instances', 'run', runFlags)).toMatch(/^ PM2's --instances is --workers \(-w\) here/);
    expect(optionHint('--kill-timeout', 'run', runFlags)).toMatch(/^ PM2's --kill-timeout is --shutdown-timeout here: --shutdown-timeout 5s/);
    expect(optionHint('--max-memory-restart', 'run', runFlags)).toMatch(/^ PM2's --max-memory-restart is --max-memory here/);
    expect(optionHint('--node-args', 'run', runFlags)).toMatch(/^ PM2's --node-args is --node-arg here, one per Node option/);
    expect(optionHint('--nostream', 'logs', ['--lines', '--follow'])).toMatch(/^ PM2's --nostream is the default here/);
    // The restart policy: PM2's --max-restarts is a flag here too; its others get their words.
    expect(runFlags).toEqual(expect.arrayContaining(['--max-restarts', '--restart-window', '--startup-window', '--max-startup-failures']));
    expect(optionHint('--min-uptime', 'run', runFlags)).toMatch(/^ PM2's --min-uptime is --startup-window here: --startup-window 1s \(the default; counted from ready, not from the spawn\)/);
    expect(optionHint('--restart-delay', 'run', runFlags)).toMatch(/^ PM2's --restart-delay is not needed: restarts back off on their own, from 100 ms doubling up to 30 s/);
    expect(optionHint('--exp-backoff-restart-delay', 'run', runFlags)).toMatch(/^ PM2's --exp-backoff-restart-delay is not needed: restarts always back off/);
    // PM2's run options mean nothing to another command.
    expect(optionHint('-i', 'status', ['--json'])).toBe('');
    expect(optionHint('--wokers', 'run', runFlags)).toBe(' Did you mean --workers?');
    expect(optionHint('--frobnicate', 'run', runFlags)).toBe('');
  });
});

describe("PM2's ecosystem keys", () => {
  const root = mkdtempSync(join(tmpdir(), 'ck-pm2-keys-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'server.js'), '');
  const file = join(root, 'ecosystem.config.js');

  /** The one app of an ecosystem file with `app`'s keys (besides its script). */
  function appOf(app: Record<string, unknown>) {
    return checkConfig({ apps: [{ script: 'server.js', ...app }] }, file)[0]!;
  }

  /** The problems a config with `app`'s keys is reported with, one per line. */
  function problemsOf(app: Record<string, unknown>): string[] {
    try {
      appOf(app);
    } catch (error) {
      const text = String((error as Error).message);
      return text.includes('problems:') ? text.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, '')) : [text.slice(file.length + 2)];
    }
    return [];
  }

  it('[H119] translates each key with a clusterkit twin, with the value PM2 means', () => {
    const app = appOf({
      name: 'api',
      args: '--port 3000 --title "two words"',
      node_args: '--max-old-space-size=256 --enable-source-maps',
      instances: 3,
      kill_timeout: 5000,
      listen_timeout: '8000',
      wait_ready: true,
      max_memory_restart: '300M',
      watch: 'src',
      ignore_watch: 'logs *.tmp',
      watch_delay: 500,
      min_uptime: '2s',
      max_restarts: 5,
      log_type: 'json',
      port: 3001,
      env: { A: 1 },
      env_production: { NODE_ENV: 'production', A: 2 },
    });
    expect(app.layer).toMatchObject({
      name: 'api',
      scriptArgs: ['--port', '3000', '--title', 'two words'],
      nodeArgs: ['--max-old-space-size=256', '--enable-source-maps'],
      workers: 3,
      shutdownTimeoutMs: 5_000,
      readyTimeoutMs: 8_000,
      waitReady: true,
      maxMemoryMb: 300,
      watch: [join(root, 'src')],
      ignoreWatch: ['logs', '*.tmp'],
      watchDelayMs: 500,
      startupWindowMs: 2_000,
      maxStartupFailures: 5,
      logFormat: 'json',
      env: { A: '1', PORT: '3001' },
    });
    expect(app.environments).toEqual({ production: { NODE_ENV: 'production', A: '2' } });
    expect(app.warnings).toEqual([]);
  });

  // Before: kill_timeout became the shutdown timeout without a word, and a PM2 user expecting
  // 5 s for requests saw them cut off at 3.75 s (tester t21).
  it('[H168] says what kill_timeout gives requests, and what gives them the whole of it', () => {
    expect(appOf({ name: 'kt', kill_timeout: 5000 }).killTimeoutNote?.text).toBe(
      'apps[0] ("kt"): PM2\'s "kill_timeout" (5000 ms) is the shutdown timeout: a stopping worker\'s requests get 3750 ms (its own deadline comes 1250 ms before the SIGKILL at 5000 ms), where PM2 gives them all 5000 ms; kill_timeout: 6667 gives them 5000 ms.',
    );
    // Past 8 s the margin is 2 s; a duration as clusterkit writes it counts the same.
    expect(appOf({ kill_timeout: '10s' }).killTimeoutNote?.text).toBe(
      'apps[0]: PM2\'s "kill_timeout" (10000 ms) is the shutdown timeout: a stopping worker\'s requests get 8000 ms (its own deadline comes 2000 ms before the SIGKILL at 10000 ms), where PM2 gives them all 10000 ms; kill_timeout: 12000 gives them 10000 ms.',
    );
    // Nothing to say without kill_timeout, or for clusterkit's own key.
    expect(appOf({ instances: 2 }).killTimeoutNote).toBeUndefined();
    expect(appOf({ instances: 2, shutdownTimeout: 5000 }).killTimeoutNote).toBeUndefined();
  });

  it('[H184] gives kill_timeout figures that add up to it', () => {
    // 202 ms: requests 151.5 ms, margin 50.5 ms, which rounded each on its own came to 203 ms.
    expect(appOf({ kill_timeout: 202 }).killTimeoutNote).toEqual({
      text: 'apps[0]: PM2\'s "kill_timeout" (202 ms) is the shutdown timeout: a stopping worker\'s requests get 152 ms (its own deadline comes 50 ms before the SIGKILL at 202 ms), where PM2 gives them all 202 ms; kill_timeout: 270 gives them 202 ms.',
      isWarning: false,
    });
    expect(appOf({ kill_timeout: 199 }).killTimeoutNote?.isWarning).toBe(true);
  });

  it('[H183] says what an instances of 0 or below comes to on this machine', () => {
    const cpus = autoWorkerCount();
    const expected = (minus: number) => (cpus - minus >= 1 ? { workers: cpus - minus, isWarning: false } : { workers: 1, isWarning: true });
    for (const [value, minus] of [[-1, 1], ['-2', 2], [-5, 5]] as const) {
      const app = appOf({ name: 'neg', instances: value });
      expect({ workers: app.layer.workers, isWarning: app.instancesNote?.isWarning }).toEqual(expected(minus));
      expect(app.instancesNote?.text).toContain(`apps[0] ("neg"): PM2's "instances" (${JSON.stringify(value)}) is every CPU but ${minus}`);
    }
    expect(appOf({ instances: 0 }).instancesNote).toEqual({ text: `apps[0]: PM2's "instances" (0) is one worker per CPU, as "max": ${cpus} worker${cpus === 1 ? '' : 's'} here.`, isWarning: false });
    expect(appOf({ instances: 'max' }).instancesNote).toBeUndefined();
    expect(appOf({ instances: 3 }).instancesNote).toBeUndefined();
  });

  it("[H119] counts instances as PM2 does: 'max' and 0 every CPU, -1 all but one, none one process", () => {
    expect(appOf({ instances: 'max' }).layer.workers).toBe('max');
    expect(appOf({ instances: 0 }).layer.workers).toBe('max');
    expect(appOf({ instances: '2' }).layer.workers).toBe(2);
    expect(appOf({ instances: -1 }).layer.workers).toBe(Math.max(1, autoWorkerCount() - 1));
    expect(appOf({ instances: -1000 }).layer.workers).toBe(1);
    expect(appOf({ exec_mode: 'cluster' }).layer.workers).toBe(1);
    // A number of bytes, as PM2 reads it, rounded up to whole MiB.
    expect(appOf({ max_memory_restart: 200 * 1024 * 1024 + 1 }).layer.maxMemoryMb).toBe(201);
    expect(appOf({ max_memory_restart: '1G' }).layer.maxMemoryMb).toBe(1024);
  });

  it('[H119][H563] warns once per key clusterkit does without, saying what it does instead', () => {
    const app = appOf({
      name: 'api',
      exec_mode: 'fork',
      interpreter: 'node',
      out_file: './out.log',
      disable_logs: true,
      autorestart: false,
      instance_var: 'INSTANCE_ID',
      increment_var: 'PORT',
      user: 'www',
      pmx: false,
    });
    expect(app.warnings).toEqual([
      'apps[0] ("api"): PM2\'s "exec_mode" ("fork") has no equivalent, and is not used: clusterkit always runs in cluster mode: "instances" workers under node:cluster, which share the ports the script listens on (instances: 1 for a single process).',
      // out_file is used (outFile, H314); disable_logs is not.
      `apps[0] ("api"): PM2's "disable_logs" (true) has no equivalent, and is not used: the output always goes to clusterkit run's stdout and stderr (and to clusterkit logs <name>); for no log file, leave out outFile, errorFile and logFile (out_file, error_file, log_file).`,
      // [H563] Before (PM2 user t58): "has no equivalent, and is not used", while the app is kept down.
      'apps[0] ("api"): PM2\'s "autorestart" (false) applies to the app, not to its workers: a crashed worker is always restarted (with backoff), so the pool keeps its size; the app itself, run with other apps of this file, is not started again when its primary exits (docs/config.md, "Running the apps").',
      // [H409] instance_var is used: each worker gets its slot in INSTANCE_ID too.
      'apps[0] ("api"): PM2\'s "increment_var" ("PORT") has no equivalent, and is not used: each worker has its slot (0, 1...) in NODE_APP_INSTANCE and CLUSTERKIT_SLOT; compute the value from it (3000 + Number(process.env.NODE_APP_INSTANCE)).',
      'apps[0] ("api"): PM2\'s "user" ("www") has no equivalent, and is not used: run clusterkit itself as that user (systemd User=, docker run --user).',
      'apps[0] ("api"): PM2\'s "pmx" (false) has no equivalent, and is not used: it is a PM2 Plus (Keymetrics) option; clusterkit\'s figures are in clusterkit status <name> and clusterkit dashboard <name>.',
    ]);
    // The deploy section: one line for the file.
    expect(checkConfig({ apps: [{ script: 'server.js' }], deploy: { production: {} } }, file)[0]!.warnings).toEqual([
      'PM2\'s "deploy" has no equivalent, and is not used: clusterkit does not deploy; deploy with your own tool, then clusterkit reload <name>.',
    ]);
  });

  it('[H664] the other shapes pm2 start takes: apps as one object, a pm2 key, a file that is one app, a top-level array (hostile t66: each refused)', () => {
    const json = join(root, 'process.json');
    const one = { name: 'api', script: 'server.js', instances: 2 };
    for (const shape of [{ apps: one }, { pm2: [one] }, { pm2: one }, one, [one]]) {
      const apps = checkConfig(shape, json);
      expect({ shape, apps: apps.map((app) => ({ name: app.name, workers: app.layer.workers })) }).toEqual({ shape, apps: [{ name: 'api', workers: 2 }] });
    }
    // PM2's keys are PM2's in those shapes, whatever the file's name (a single app's exec_mode, max_memory_restart).
    expect(checkConfig({ ...one, exec_mode: 'cluster', max_memory_restart: '300M' }, json)[0]!.layer.maxMemoryMb).toBe(300);
    // A one-app file without its script: the script is what it misses (retest t67: "Unknown key "name"").
    expect(() => checkConfig({ name: 'api', instances: 1 }, json)).toThrow(/script/);
    expect(() => checkConfig({ name: 'api', instances: 1 }, json)).not.toThrow(/Unknown key "name"/);
    // No app anywhere: refused as before, saying the shape.
    expect(() => checkConfig({ instances: 1 }, json)).toThrow(/Known keys: apps/);
  });

  // Before: "has no equivalent, and is not used: run clusterkit reload <name> from cron".
  it('[H377] cron_restart (and its alias cron) is cronRestart, with no warning; a bad one is refused by the key the file wrote', () => {
    expect(appOf({ name: 'api', cron_restart: '0 3 * * *' })).toMatchObject({ layer: { cronRestart: '0 3 * * *' }, warnings: [] });
    expect(appOf({ name: 'api', cron: '*/2 * * * * *' })).toMatchObject({ layer: { cronRestart: '*/2 * * * * *' }, warnings: [] });
    expect(checkConfig({ apps: [{ script: 'server.js', cronRestart: '@daily' }] }, file)[0]!.layer.cronRestart).toBe('@daily');
    expect(problemsOf({ name: 'api', cron_restart: '0 3 * *' })).toEqual([
      `app "api": "apps[0].cron_restart" must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), read in the primary's local time zone, such as '0 3 * * *' (every day at 03:00); it has 4 fields: 5 or 6 are read (no year field). Received "0 3 * *".`,
    ]);
  });

  it('[H119] refuses a bad value by the file, the app and the key, all at once', () => {
    expect(problemsOf({ name: 'api', instances: 'lots', exec_mode: 'thread', max_memory_restart: '1.5G', kill_timeout: -5, log_type: 'raw', port: 0, max_restarts: -1 })).toEqual([
      'app "api": "apps[0].instances" must be a whole number or "max", as PM2 takes it: 4, "max" or 0 (one per CPU), -1 (every CPU but one). Received "lots".',
      'app "api": "apps[0].exec_mode" must be "cluster" or "fork" (PM2 also takes "cluster_mode" and "fork_mode"). Received "thread".',
      'app "api": "apps[0].max_memory_restart" must be a memory size as PM2 takes it: \'512M\', \'1G\', \'300K\', or a number of bytes. Received "1.5G".',
      'app "api": "apps[0].log_type" must be "json", the only log type PM2 has (leave it out for lines). Received "raw".',
      'app "api": "apps[0].max_restarts" must be a whole number, 0 or more. Received -1.',
      'app "api": "apps[0].port" must be a port number from 1 to 65535 (it becomes PORT in the environment, as under PM2). Received 0.',
      'app "api": "apps[0].kill_timeout" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received -5.',
    ]);
    // Below the floor: the value as written (before: `Received "1K"`, what it was turned into).
    const floor = 'must be at least 64M: a Node.js worker uses about 50 MB of memory before it runs any code, so a lower limit would replace it forever.';
    expect(problemsOf({ name: 'api', max_memory_restart: 1 })).toEqual([`app "api": "apps[0].max_memory_restart" ${floor} Received 1 (bytes).`]);
    expect(problemsOf({ name: 'api', max_memory_restart: '63M' })).toEqual([`app "api": "apps[0].max_memory_restart" ${floor} Received "63M".`]);
    expect(appOf({ max_memory_restart: 64 * 2 ** 20 }).layer.maxMemoryMb).toBe(64);
    expect(problemsOf({ name: 'api', instances: 2, workers: 3 })).toEqual(['app "api": "apps[0]" has both "workers" and "instances", which are the same setting ("workers" here); keep one.']);
    expect(problemsOf({ name: 'api', env_production: 'x' })).toEqual(['app "api": "apps[0].env_production" must be an object of variables, as in { PORT: \'3000\' }.']);
    expect(problemsOf({ env_file: '.env' })).toEqual(['Unknown key "apps[0].env_file". Did you mean "envFile"?']);
  });
});

describe('flag names in messages from the library', () => {
  it('[H588] a reload asked for by a watch that a config file set names its key, as a cron reload\'s line does', () => {
    // Newcomer t60: `rolling reload started: a change under --watch asked for it` with no --watch typed.
    expect(inFlagNames('rolling reload started: a change under --watch asked for it', { watch: 'watch in ecosystem.config.cjs' })).toBe(
      'rolling reload started: a change under --watch (watch in ecosystem.config.cjs) asked for it',
    );
    expect(inFlagNames('rolling reload started: a change under --watch asked for it')).toBe('rolling reload started: a change under --watch asked for it');
  });

  it('[H146] rewrites the phrasings the library uses, and nothing else; a value from a config file is named by its key too', () => {
    expect(inFlagNames('The "count" option must be at most 2, the "maxWorkers" option (raise it to run more workers). Received 100000'))
      .toBe('The worker count must be at most 2, the --max-workers value (raise it to run more workers). Received 100000');
    expect(inFlagNames('starting 64 workers: one per CPU, at most "maxWorkers" (64)')).toBe('starting 64 workers: one per CPU, at most --max-workers (64)');
    expect(inFlagNames('Raise the limit (maxMemoryMb; clusterkit run: --max-memory) or fix the leak')).toBe('Raise the limit (--max-memory) or fix the leak');
    expect(inFlagNames('Worker slot 0 crashed 11 times within 60 s (restart.maxRestarts), so it is no longer restarted')).toBe(
      'Worker slot 0 crashed 11 times within 60 s (--max-restarts), so it is no longer restarted',
    );
    // Requests cut off at the shutdown deadline: the flag, and the config key, that raise it.
    expect(inFlagNames('worker 1 cut off 1 request still open at its shutdown deadline (7500 ms after its stop began); it exits with code 1. Raise the shutdownTimeoutMs option if requests take longer')).toBe(
      'worker 1 cut off 1 request still open at its shutdown deadline (7500 ms after its stop began); it exits with code 1. Raise --shutdown-timeout (shutdownTimeout in the config file) if requests take longer',
    );
    // The dot is a dot: no other option name matches through it.
    expect(inFlagNames('(restartXmaxRestarts)')).toBe('(restartXmaxRestarts)');

    expect(inFlagNames('Worker 3 (slot 0) was not ready within 30000 ms (option "readyTimeoutMs"), so it was killed.')).toBe(
      'Worker 3 (slot 0) was not ready within 30000 ms (option --ready-timeout), so it was killed.',
    );
    expect(inFlagNames('a "name" and maxWorkers in prose')).toBe('a "name" and maxWorkers in prose');
    // [H146] A value a config file set: the key it wrote, with the flag.
    const sources = { readyTimeoutMs: 'listen_timeout in wr.config.js', shutdownTimeoutMs: 'kill_timeout in wr.config.js', maxMemoryMb: 'max_memory_restart in wr.config.js' };
    expect(inFlagNames('Worker 3 (slot 0) was not ready within 2000 ms (option "readyTimeoutMs"), so it was killed.', sources)).toBe(
      'Worker 3 (slot 0) was not ready within 2000 ms (option --ready-timeout; listen_timeout in wr.config.js), so it was killed.',
    );
    expect(inFlagNames('Raise the shutdownTimeoutMs option if requests take longer', sources)).toBe('Raise --shutdown-timeout (kill_timeout in wr.config.js) if requests take longer');
    expect(inFlagNames('Raise the limit (maxMemoryMb; clusterkit run: --max-memory) or fix the leak', sources)).toBe('Raise the limit (--max-memory; max_memory_restart in wr.config.js) or fix the leak');
    expect(inFlagNames('limit 512.0 MiB (maxMemoryMb)', sources)).toBe('limit 512.0 MiB (--max-memory; max_memory_restart in wr.config.js)');
  });

  it("[H689] names the stop's timeout by its flag wherever a line names the option: mid-sentence, after a kill, and for an _init() that outlasted it", () => {
    // Before: `Its stop had 2000 ms: raise the shutdownTimeoutMs option if it needs longer` under clusterkit run (newcomer t70).
    expect(inFlagNames('worker 1 was killed (SIGKILL) by the primary at the shutdown timeout before it finished stopping. Its stop had 2000 ms: raise the shutdownTimeoutMs option if it needs longer')).toBe(
      'worker 1 was killed (SIGKILL) by the primary at the shutdown timeout before it finished stopping. Its stop had 2000 ms: raise --shutdown-timeout (shutdownTimeout in the config file) if it needs longer',
    );
    expect(inFlagNames('it exits with code 1. Raise the shutdownTimeoutMs option if _destroy() needs longer (...), or have it finish sooner', { shutdownTimeoutMs: 'kill_timeout in ecosystem.config.cjs' })).toBe(
      'it exits with code 1. Raise --shutdown-timeout (kill_timeout in ecosystem.config.cjs) if _destroy() needs longer (...), or have it finish sooner',
    );
    expect(inFlagNames('waited for its _init() to finish until after the drain\'s end. Keep _init() shorter than shutdownTimeoutMs, or give it a deadline of its own')).toBe(
      'waited for its _init() to finish until after the drain\'s end. Keep _init() shorter than --shutdown-timeout (shutdownTimeout in the config file), or give it a deadline of its own',
    );
    // A call's own timeout is not the flag's.
    expect(inFlagNames('Its stop had 500 ms: give stopWorker() a longer timeoutMs if it needs longer')).toBe('Its stop had 500 ms: give stopWorker() a longer timeoutMs if it needs longer');
  });

  it('[H185] names the config key of an option with no flag, and the flags of a drain cut short', () => {
    expect(inFlagNames('each soon after its worker started (within restart.stableAfterMs): the limit', { 'restart.stableAfterMs': 'stableAfter in ck.config.cjs' })).toBe(
      'each soon after its worker started (within stableAfter in ck.config.cjs): the limit',
    );
    expect(inFlagNames('after a back-off of 400 ms (restart.backoff); raise')).toBe('after a back-off of 400 ms (restartBackoff, doubled in a row: 100 ms unless a config file sets it); raise');
    expect(inFlagNames('one at a time over 1.2 s (gradualDrainMs, at most half of shutdownTimeoutMs), then stops')).toBe('one at a time over 1.2 s (--gradual-drain, at most half of --shutdown-timeout), then stops');
  });

  it('[H449] names stableAfter in the served crash line whose restart backs off', () => {
    const line = 'restarting in 400 ms: 3 restarts in a row with no worker ready 30 s (restart.stableAfterMs), the backoff doubling until one stays ready that long';
    expect(inFlagNames(line)).toBe('restarting in 400 ms: 3 restarts in a row with no worker ready 30 s (stableAfter in a config file), the backoff doubling until one stays ready that long');
    expect(inFlagNames(line, { 'restart.stableAfterMs': 'stableAfter in ck.config.cjs' })).toContain('no worker ready 30 s (stableAfter in ck.config.cjs), the backoff');
  });

  it('turns the memory-limit line of the primary into --max-memory', () => {
    const lines: string[] = [];
    const record = (_fields: object, message?: string) => lines.push(message ?? '');
    const logger: Logger = withFlagNames({ debug: record, info: record, warn: record, error: record });
    const primary = new EventEmitter();
    attachPrimaryLogging(primary as unknown as ClusterPrimary, logger);
    primary.emit('workerMemoryLimit', { worker: { id: 3, pid: 1234, slot: 0 }, rssBytes: 600 * 1024 * 1024, limitBytes: 512 * 1024 * 1024, inARow: 1, delayMs: 0, action: 'replace' });
    primary.emit('workerMemoryLimit', { worker: { id: 5, pid: 1236, slot: 0 }, rssBytes: 600 * 1024 * 1024, limitBytes: 512 * 1024 * 1024, inARow: 3, delayMs: 100, action: 'replace' });
    expect(lines).toEqual([
      'worker 3 over the memory limit: RSS 600.0 MiB, limit 512.0 MiB (--max-memory)',
      'worker 5 over the memory limit: RSS 600.0 MiB, limit 512.0 MiB (--max-memory); 3 replacements in a row, each soon after its worker started (within stableAfter: 30.0 s unless a config file sets it): ' +
        'the limit is below what the worker needs, or it leaks memory from the start. It is replaced each time, after a back-off of 100 ms (restartBackoff, doubled in a row: 100 ms unless a config file sets it); raise the limit (--max-memory) or fix the leak',
    ]);
  });
});

describe('a relative script with --cwd', () => {
  const root = mkdtempSync(join(tmpdir(), 'ck-script-path-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'app'));
  writeFileSync(join(root, 'app/server.js'), '');
  writeFileSync(join(root, 'both.js'), '');
  writeFileSync(join(root, 'app/both.js'), '');

  it('is looked for in --cwd first, as PM2 does, then in the current directory', () => {
    expect(findScript('server.js', join(root, 'app'), root)).toBe(join(root, 'app/server.js'));
    expect(findScript('app/server.js', join(root, 'app'), root)).toBe(join(root, 'app/server.js'));
    expect(findScript('both.js', join(root, 'app'), root)).toBe(join(root, 'app/both.js'));
    expect(findScript('both.js', undefined, root)).toBe(join(root, 'both.js'));
    expect(findScript(join(root, 'both.js'), join(root, 'app'), '/')).toBe(join(root, 'both.js'));
    expect(findScript('server.js', undefined, root)).toBeUndefined();
  });

  it('is reported with every path tried', () => {
    expect(scriptNotFound('nope.js', join(root, 'app'), root).message).toBe(
      `Script not found: ${join(root, 'app/nope.js')} (relative to --cwd ${join(root, 'app')}), nor ${join(root, 'nope.js')} (relative to the current directory).`,
    );
    expect(scriptNotFound('nope.js', undefined, root).message).toBe(`Script not found: ${join(root, 'nope.js')} (relative to the current directory; with --cwd <dir>, to that directory first).`);
    expect(scriptNotFound('/nope.js', join(root, 'app'), root).message).toBe('Script not found: /nope.js.');
  });
});

describe('a file named like a config', () => {
  it("is a config by PM2's endings (Common.isConfigFile) and clusterkit's TypeScript ones, at the end of the file's name only", () => {
    for (const name of ['ecosystem.config.js', 'ecosystem.config.cjs', 'ecosystem.config.mjs', 'clusterkit.config.ts', 'a.config.mts', 'a.config.cts', 'process.json', '/srv/api/ecosystem.config.js']) {
      expect({ name, kind: configNameOf(name)?.kind }).toEqual({ name, kind: 'config' });
    }
    expect(configNameOf('ecosystem.yml')).toEqual({ kind: 'yaml', ending: '.yml' });
    expect(configNameOf('process.yaml')).toEqual({ kind: 'yaml', ending: '.yaml' });
    // PM2 looks anywhere in the path; a script in a directory named so stays a script.
    for (const name of ['server.js', 'ecosystem.js', 'config.js', '/srv/app.json.d/server.js', 'ecosystem.config.js.bak', 'app.configjs', 'a.CONFIG.JS']) {
      expect({ name, kind: configNameOf(name) }).toEqual({ name, kind: undefined });
    }
  });
});
