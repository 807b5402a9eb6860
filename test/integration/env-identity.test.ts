/**
 * A worker's identity is the primary's: the `env` options (the primary's, a fork's) and the
 * primary's own environment cannot set clusterkit's variables (`CLUSTERKIT_NAME`,
 * `CLUSTERKIT_ROLES`, ...), or a worker would believe a name or roles the primary never gave
 * it, and `roundRobin({ role })`, `workerByName()` and `context.from.name` would disagree
 * with it. Read from the worker itself (`whoami`) and from its real environment (Linux).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';

function environOf(pid: number | undefined): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

const kSpoof = { CLUSTERKIT_NAME: 'evil', CLUSTERKIT_ROLES: 'io,admin', CLUSTERKIT_SLOT: '7', CLUSTERKIT_WATCHDOG: 'early', KEPT: 'yes' };

describe('clusterkit variables in env', () => {
  it('[H70] env (the primary option, a fork option, the inherited environment) cannot give a worker a name or roles the primary did not', async () => {
    // The primary's own environment, as a shell that exported the variables would leave it.
    const saved = { name: process.env.CLUSTERKIT_NAME, roles: process.env.CLUSTERKIT_ROLES };
    process.env.CLUSTERKIT_NAME = 'inherited';
    process.env.CLUSTERKIT_ROLES = 'inherited';
    try {
      const primary = testPrimary({ workerCount: 1, env: kSpoof });
      const [plain] = await primary.start();
      const who = await primary.send(plain!, 'whoami');
      expect([who.name, who.roles, who.slot]).toEqual([undefined, [], 0]);
      expect(primary.workerByName('evil')).toBeUndefined();
      const [named] = await primary.fork({ name: 'cache', roles: ['storage'], env: { ...kSpoof, CLUSTERKIT_NAME: 'other', CLUSTERKIT_ROLES: 'admin' } });
      await expect(primary.send(named!, 'whoami')).resolves.toMatchObject({ name: 'cache', roles: ['storage'], slot: named!.slot });
      expect(primary.roundRobin({ role: 'storage' })).toBe(named);
      expect(() => primary.roundRobin({ role: 'admin' })).toThrow("No ready worker with role 'admin'");
      if (process.platform === 'linux') {
        const environ = environOf(plain!.pid);
        expect([environ.get('CLUSTERKIT_NAME'), environ.get('CLUSTERKIT_ROLES'), environ.get('CLUSTERKIT_SLOT'), environ.get('CLUSTERKIT_WATCHDOG'), environ.get('KEPT')]).toEqual([
          undefined,
          undefined,
          '0',
          undefined,
          'yes',
        ]);
        expect(environOf(named!.pid).get('CLUSTERKIT_WATCHDOG')).toBe('early');
      }
    } finally {
      for (const [key, value] of [['CLUSTERKIT_NAME', saved.name], ['CLUSTERKIT_ROLES', saved.roles]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("[H70] instanceVar cannot name one of clusterkit's own variables", () => {
    expect(() => testPrimary({ instanceVar: 'CLUSTERKIT_NAME' })).toThrow(InvalidOptionError);
    expect(() => testPrimary({ instanceVar: 'CLUSTERKIT_NAME' })).toThrow(`The "instanceVar" option must be an environment variable name outside clusterkit's own CLUSTERKIT_*`);
  });
});
