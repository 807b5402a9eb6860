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

describe('flag names in messages from the library', () => {
  it('rewrites the phrasings the library uses, and nothing else', () => {
    expect(inFlagNames('The "count" option must be at most 2, the "maxWorkers" option (raise it to run more workers). Received 100000'))
      .toBe('The worker count must be at most 2, the --max-workers value (raise it to run more workers). Received 100000');
    expect(inFlagNames('starting 64 workers: one per CPU, at most "maxWorkers" (64)')).toBe('starting 64 workers: one per CPU, at most --max-workers (64)');
    expect(inFlagNames('Raise the limit (maxMemoryMb; clusterkit run: --max-memory) or fix the leak')).toBe('Raise the limit (--max-memory) or fix the leak');
    expect(inFlagNames('Worker slot 0 crashed 11 times within 60 s (restart.maxRestarts), so it is no longer restarted')).toBe(
      'Worker slot 0 crashed 11 times within 60 s (--max-restarts), so it is no longer restarted',
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
