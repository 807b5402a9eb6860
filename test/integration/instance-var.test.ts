/**
 * `instanceVar` (PM2's `instance_var`): off by default in the library, where node-config would
 * read NODE_APP_INSTANCE; when given, each worker gets its slot in that variable, unless `env`
 * sets it. Read from the workers' real environment (/proc/<pid>/environ, Linux).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';

function environOf(pid: number | undefined): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('instanceVar', () => {
  it('sets nothing by default; with instanceVar, the slot; a variable given in env wins', async () => {
    const plain = testPrimary({ workerCount: 1, env: { NODE_APP_INSTANCE: undefined } });
    const [worker] = await plain.start();
    expect(environOf(worker!.pid).has('NODE_APP_INSTANCE')).toBe(false);

    const pm2Like = testPrimary({ workerCount: 2, instanceVar: 'NODE_APP_INSTANCE' });
    const workers = await pm2Like.start();
    expect(workers.map((handle) => environOf(handle.pid).get('NODE_APP_INSTANCE'))).toEqual(workers.map((handle) => String(handle.slot)));
    const [named] = await pm2Like.fork({ name: 'cron', env: { NODE_APP_INSTANCE: 'cron' } });
    expect(environOf(named!.pid).get('NODE_APP_INSTANCE')).toBe('cron');
  });

  it('refuses a name that is not an environment variable name', () => {
    expect(() => testPrimary({ instanceVar: 'NODE APP' })).toThrow(InvalidOptionError);
  });
});
