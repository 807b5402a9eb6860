/**
 * A library primary (`new ClusterPrimary({ serviceName })`, `startClusteredService`) whose
 * `XDG_RUNTIME_DIR` is ignored (relative, or no existing directory: H384) says so once through
 * its logger, as `clusterkit run` does (H393). Before, a `ClusterPrimary` used the fallback
 * directory without a word, so `clusterkit ls` with that variable set elsewhere looked for it in
 * vain. TMPDIR is a fresh directory, so the fallback `<tmpdir>/clusterkit-<uid>` is the test's own.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { kRepoRoot, spawnScript } from '../helpers/spawn.js';
import { killServices, startService } from '../runner/service-process.js';

const directories: string[] = [];
afterEach(() => {
  killServices();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const kUid = typeof process.getuid === 'function' ? process.getuid() : 'user';

function freshTmp(): string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-h393-'));
  directories.push(directory);
  return directory;
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('a library primary whose XDG_RUNTIME_DIR is ignored', () => {
  it('[H393] new ClusterPrimary({ serviceName }) with a relative XDG_RUNTIME_DIR: one WARN through its logger naming the directory it uses', async () => {
    const tmp = freshTmp();
    const relative = `ck-h393-rt-${process.pid}`;
    const named = spawnScript('test/fixtures/named-primary.ts', { env: { XDG_RUNTIME_DIR: relative, TMPDIR: tmp } });
    await expect(named.exited()).resolves.toBe(0);
    const fallback = join(tmp, `clusterkit-${kUid}`);
    expect(named.stderr()).toContain(
      `[storeapp] WARN XDG_RUNTIME_DIR="${relative}" is not an absolute path (the XDG Base Directory spec says to ignore a relative one: it would name another directory in each working directory), ` +
        `so clusterkit ignores it and uses the control directory ${fallback}, as when it is unset. Set it to an absolute path of an existing directory of your own, or unset it.`,
    );
    expect(count(named.stderr(), 'WARN XDG_RUNTIME_DIR')).toBe(1);
    expect(existsSync(join(kRepoRoot, relative))).toBe(false);
  });

  // startClusteredService said it already (its runner path is clusterkit run's): kept here so both library paths stay alike.
  it('[H393] startClusteredService({ serviceName }) with an XDG_RUNTIME_DIR naming no directory: one WARN, the socket in the fallback', async () => {
    const tmp = freshTmp();
    const missing = join(tmp, 'missing', 'xx');
    const fallback = join(tmp, `clusterkit-${kUid}`);
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ serviceName: 'h393svc', workers: 1 }), XDG_RUNTIME_DIR: missing, TMPDIR: tmp });
    const [started] = await service.waitForLines('started');
    expect(started!.control).toBe(join(fallback, 'h393svc.sock'));
    expect(service.stderr()).toContain(`WARN XDG_RUNTIME_DIR=${JSON.stringify(missing)} names no existing directory, so clusterkit ignores it and uses the control directory ${fallback}, as when it is unset.`);
    expect(count(service.stderr(), 'WARN XDG_RUNTIME_DIR')).toBe(1);
    process.kill(started!.pid as number, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
    expect(existsSync(join(tmp, 'missing'))).toBe(false);
  });
});
