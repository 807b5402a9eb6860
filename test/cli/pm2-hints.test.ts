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
    expect(commandHint('restart', kCommandNames)).toBe(` PM2's "restart" is "reload": clusterkit reload <name> replaces the workers one by one, with no downtime (or stop it, then run it again).`);
    expect(commandHint('start', kCommandNames)).toMatch(/^ PM2's "start" is "run": clusterkit run app\.js/);
    expect(commandHint('delete', kCommandNames)).toMatch(/^ PM2's "delete" is "stop": clusterkit stop <name>/);
    expect(commandHint('monit', kCommandNames)).toMatch(/clusterkit dashboard <name> .*clusterkit status <name> --watch/);
    for (const command of ['describe', 'show', 'info']) expect(commandHint(command, kCommandNames)).toBe(` PM2's "${command}" is "status": clusterkit status <name>.`);
    expect(commandHint('ls', kCommandNames)).toBe(` PM2's "ls" is "list": clusterkit list.`);
    expect(commandHint('flush', kCommandNames)).toMatch(/^ PM2's "flush" is not needed: clusterkit keeps no log files/);
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

  /** The problems a config with `app`'s keys (besides its script) is reported with, one per line. */
  function problemsOf(app: Record<string, unknown>): string[] {
    try {
      checkConfig({ apps: [{ script: 'server.js', ...app }] }, file);
    } catch (error) {
      const text = String((error as Error).message);
      return text.includes('problems:') ? text.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, '')) : [text.slice(file.length + 2)];
    }
    return [];
  }

  it('get what to write instead, for each commonly used one clusterkit does not have', () => {
    const hints = problemsOf({
      exec: 'server.js',
      interpreter: 'node',
      out_file: './out.log',
      error_file: './err.log',
      merge_logs: true,
      log_date_format: 'YYYY-MM-DD HH:mm Z',
      pid_file: './app.pid',
      cron_restart: '0 3 * * *',
      instance_var: 'INSTANCE_ID',
      increment_var: 'PORT',
      port: 3000,
      env_production: { NODE_ENV: 'production' },
      watch_options: { usePolling: true },
      stop_exit_codes: [0],
      source_map_support: true,
      user: 'www',
      pmx: false,
    });
    expect(hints).toEqual([
      'Unknown key "apps[0].exec". PM2\'s "exec" is "script" here.',
      'Unknown key "apps[0].interpreter". PM2\'s "interpreter" has no equivalent: the script runs on the Node (or Bun) that runs clusterkit; for TypeScript on Node, nodeArgs: ["--import=tsx"]; remove it.',
      ...['out_file', 'error_file', 'merge_logs'].map(
        (key) =>
          `Unknown key "apps[0].${key}". PM2's "${key}" has no equivalent: clusterkit keeps no log files: the workers' output goes to clusterkit run's stdout and stderr, prefixed [name:id]; redirect it (>> app.log 2>&1), or read it with clusterkit logs <name>; remove it.`,
      ),
      'Unknown key "apps[0].log_date_format". PM2\'s "log_date_format" has no equivalent: lines have no timestamp of their own; with logFormat: "json" each has a "time" field, and a supervisor (journald, docker logs) adds its own; remove it.',
      'Unknown key "apps[0].pid_file". PM2\'s "pid_file" has no equivalent: the primary is the process you started (your supervisor has its pid), and clusterkit list and clusterkit status <name> show the pids; remove it.',
      'Unknown key "apps[0].cron_restart". PM2\'s "cron_restart" has no equivalent: run clusterkit reload <name> from cron or a systemd timer: it replaces the workers one by one, with no downtime; remove it.',
      'Unknown key "apps[0].instance_var". PM2\'s "instance_var" has no equivalent: clusterkit run always sets NODE_APP_INSTANCE (and CLUSTERKIT_SLOT) to the worker\'s slot, 0, 1..., kept across restarts and reloads; remove it.',
      'Unknown key "apps[0].increment_var". PM2\'s "increment_var" has no equivalent: each worker has its slot (0, 1...) in NODE_APP_INSTANCE and CLUSTERKIT_SLOT; compute the value from it (3000 + Number(process.env.NODE_APP_INSTANCE)); remove it.',
      'Unknown key "apps[0].port". PM2\'s "port" has no equivalent: set the variable in "env" instead: env: { PORT: "3000" }; remove it.',
      'Unknown key "apps[0].env_production". PM2\'s "env_production" has no equivalent: an app has one set of variables, "env", over "envFile"; keep one file per environment and choose it on the command line (clusterkit run --env-file .env.production); remove it.',
      'Unknown key "apps[0].watch_options". PM2\'s "watch_options" has no equivalent: the watcher\'s options are not exposed; "ignoreWatch" and "watchDelay" tune it; remove it.',
      'Unknown key "apps[0].stop_exit_codes". PM2\'s "stop_exit_codes" has no equivalent: a worker that exits on its own, whatever its code, is restarted so that the pool keeps its size (code 0 is not reported as a crash); remove it.',
      'Unknown key "apps[0].source_map_support". PM2\'s "source_map_support" has no equivalent: add nodeArgs: ["--enable-source-maps"]; remove it.',
      'Unknown key "apps[0].user". PM2\'s "user" has no equivalent: run clusterkit itself as that user (systemd User=, docker run --user); remove it.',
      'Unknown key "apps[0].pmx". PM2\'s "pmx" has no equivalent: it is a PM2 Plus (Keymetrics) option; clusterkit\'s figures are in clusterkit status <name> and clusterkit dashboard <name>; remove it.',
    ]);
  });

  it('keep the keys clusterkit shares, and env_file its own twin', () => {
    expect(problemsOf({ env: { A: '1' }, watch: true, name: 'api' })).toEqual([]);
    expect(problemsOf({ env_file: '.env' })).toEqual(['Unknown key "apps[0].env_file". PM2\'s "env_file" is "envFile" here.']);
  });

  it('include the deploy section of an ecosystem file', () => {
    expect(() => checkConfig({ apps: [{ script: 'server.js' }], deploy: { production: {} } }, file)).toThrow(
      `${file}: Unknown key "deploy". PM2's "deploy" has no equivalent: clusterkit does not deploy; deploy with your own tool, then clusterkit reload <name>; remove it.`,
    );
  });
});

describe('flag names in messages from the library', () => {
  it('rewrites the phrasings the library uses, and nothing else', () => {
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
  });

  it('turns the memory-limit line of the primary into --max-memory', () => {
    const lines: string[] = [];
    const record = (_fields: object, message?: string) => lines.push(message ?? '');
    const logger: Logger = withFlagNames({ debug: record, info: record, warn: record, error: record });
    const primary = new EventEmitter();
    attachPrimaryLogging(primary as unknown as ClusterPrimary, logger);
    primary.emit('workerMemoryLimit', { worker: { id: 3, pid: 1234, slot: 0 }, rssBytes: 600 * 1024 * 1024, limitBytes: 512 * 1024 * 1024 });
    expect(lines).toEqual(['worker 3 over the memory limit: RSS 600.0 MiB, limit 512.0 MiB (--max-memory)']);
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
