/**
 * A worker's identity is the primary's: the `env` options (the primary's, a fork's) and the
 * primary's own environment cannot set clusterkit's variables (`CLUSTERKIT_NAME`,
 * `CLUSTERKIT_ROLES`, ...), or a worker would believe a name or roles the primary never gave
 * it, and `roundRobin({ role })`, `workerByName()` and `context.from.name` would disagree
 * with it. Read from the worker itself (`whoami`) and from its real environment (Linux). An
 * `env` that names one is refused (H78); the primary's own values (a spread `process.env`) pass
 * and are replaced.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';

function environOf(pid: number | undefined): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** What a shell that exported clusterkit's variables leaves in the primary's environment. */
const kInherited = { CLUSTERKIT_NAME: 'evil', CLUSTERKIT_ROLES: 'io,admin', CLUSTERKIT_SLOT: '7', CLUSTERKIT_WATCHDOG: 'early' };

describe('clusterkit variables in env', () => {
  it('[H70] the inherited environment, spread into env or not, cannot give a worker a name or roles the primary did not', async () => {
    const saved = Object.fromEntries(Object.keys(kInherited).map((key) => [key, process.env[key]]));
    Object.assign(process.env, kInherited);
    try {
      // `{ ...process.env, KEPT }`: the primary's own values passed on, which are replaced in silence.
      const primary = testPrimary({ workerCount: 1, env: { ...kInherited, KEPT: 'yes', CLUSTERKIT_NAME: undefined } });
      const [plain] = await primary.start();
      const who = await primary.send(plain!, 'whoami');
      expect([who.name, who.roles, who.slot]).toEqual([undefined, [], 0]);
      expect(primary.workerByName('evil')).toBeUndefined();
      const [named] = await primary.fork({ name: 'cache', roles: ['storage'], env: { ...kInherited } });
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
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("[H78] env naming clusterkit's own variables is refused at the call site, with what to use instead, not dropped in silence", async () => {
    expect(() => testPrimary({ env: { KEPT: 'yes', CLUSTERKIT_NAME: 'evil' } })).toThrow(InvalidOptionError);
    expect(() => testPrimary({ env: { KEPT: 'yes', CLUSTERKIT_NAME: 'evil' } })).toThrow(
      `The "env" option must be an object without clusterkit's own variables: the primary sets CLUSTERKIT_NAME in each worker itself, after any env: it holds the worker's name, given by fork({ name }). Received "CLUSTERKIT_NAME"`,
    );
    expect(() => testPrimary({ env: { CLUSTERKIT_SLOT: '7' } })).toThrow('it holds the worker\'s slot number (instanceVar names a variable of your own to hold it too)');
    const primary = testPrimary({ workerCount: 1 });
    const [worker] = await primary.start();
    await expect(primary.fork({ roles: ['storage'], env: { CLUSTERKIT_ROLES: 'admin' } })).rejects.toThrow(
      "it holds the worker's roles, given by fork({ roles }). Received \"CLUSTERKIT_ROLES\"",
    );
    // Nothing was forked, and the cluster serves on.
    expect(primary.workers).toEqual([worker]);
    await expect(primary.send(worker!, 'whoami')).resolves.toMatchObject({ slot: 0 });
  });

  it('[H78] keys env inherits through its prototype reach the workers, as with child_process, and clusterkit\'s own are refused there too', async () => {
    // Before: Object.create({ ... }) was accepted and every inherited key dropped in silence.
    expect(() => testPrimary({ env: Object.create({ CLUSTERKIT_SLOT: '7', CLUSTERKIT_BULK_FD: '0' }) as Record<string, string> })).toThrow(
      'the primary sets CLUSTERKIT_SLOT in each worker itself',
    );
    const primary = testPrimary({ workerCount: 1, env: Object.create({ INHERITED: 'primary' }) as Record<string, string> });
    const [worker] = await primary.start();
    await expect(primary.fork({ env: Object.create({ CLUSTERKIT_NAME: 'evil' }) as Record<string, string> })).rejects.toThrow(
      "the primary sets CLUSTERKIT_NAME in each worker itself, after any env: it holds the worker's name, given by fork({ name }). Received \"CLUSTERKIT_NAME\"",
    );
    expect(primary.workers).toEqual([worker]);
    const [forked] = await primary.fork({ env: Object.assign(Object.create({ FROM_PROTO: 'fork' }) as Record<string, string>, { OWN: 'own' }) });
    await expect(primary.send(forked!, 'whoami')).resolves.toMatchObject({ slot: forked!.slot });
    if (process.platform === 'linux') {
      expect(environOf(worker!.pid).get('INHERITED')).toBe('primary');
      const environ = environOf(forked!.pid);
      expect([environ.get('INHERITED'), environ.get('FROM_PROTO'), environ.get('OWN')]).toEqual(['primary', 'fork', 'own']);
    }
  });

  it("[H70] instanceVar cannot name one of clusterkit's own variables", () => {
    expect(() => testPrimary({ instanceVar: 'CLUSTERKIT_NAME' })).toThrow(InvalidOptionError);
    expect(() => testPrimary({ instanceVar: 'CLUSTERKIT_NAME' })).toThrow(`The "instanceVar" option must be an environment variable name outside clusterkit's own CLUSTERKIT_*`);
  });
});
