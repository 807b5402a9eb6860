/**
 * `XDG_RUNTIME_DIR` that is not an absolute path, or names no existing directory, is ignored as
 * if unset (H384, hostile t38 M3 and L1): before, `rt` meant `rt/clusterkit` under each
 * command's working directory (two primaries of one name, `ls` elsewhere saw none, `stop` from
 * another directory reached the other one), and `/missing/xx` was created, every level 0700,
 * and left behind. TMPDIR is a fresh directory here, so the fallback `<tmpdir>/clusterkit-<uid>`
 * is this test's own. The CLI binary run directly, as users run it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = readFileSync(join(kRepoRoot, 'test/fixtures/cli-env-server.mjs'), 'utf8');
const kUid = typeof process.getuid === 'function' ? process.getuid() : 'user';

describe('clusterkit: XDG_RUNTIME_DIR that cannot be the runtime directory', () => {
  it('[H384] a relative XDG_RUNTIME_DIR is ignored: one primary per name from any directory, ls and stop find it, and a WARN says which directory is used', async () => {
    const tmp = runtimeDir();
    const project = tempProject({ 'server.mjs': kServer });
    mkdirSync(join(project, 'one'));
    mkdirSync(join(project, 'two'));
    const env = { XDG_RUNTIME_DIR: 'rt', TMPDIR: tmp, PORT: String(await freePort()) };
    const fallback = join(tmp, `clusterkit-${kUid}`);
    const run = startCli(['run', '../server.mjs', '--name', 'hrel', '-w', '1'], { runtime: tmp, cwd: join(project, 'one'), env });
    await run.waitFor(/service hrel started: 1 worker/);
    expect(run.output()).toContain(
      `WARN XDG_RUNTIME_DIR="rt" is not an absolute path (the XDG Base Directory spec says to ignore a relative one: it would name another directory in each working directory), ` +
        `so clusterkit ignores it and uses the control directory ${fallback}, as when it is unset. Set it to an absolute path of an existing directory of your own, or unset it.`,
    );
    expect(run.output()).toContain(`control=${join(fallback, 'hrel.sock')}`);
    expect(run.output().match(/WARN XDG_RUNTIME_DIR/g)).toHaveLength(1);
    // Before: a second primary of the name started here, with its socket in two/rt/clusterkit.
    const second = await cli(['run', '../server.mjs', '--name', 'hrel', '-w', '1'], { runtime: tmp, cwd: join(project, 'two'), env: { ...env, PORT: String(await freePort()) } });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('A cluster named "hrel" is already running');
    // Before: "No cluster is running." from any other directory.
    const list = await cli(['ls'], { runtime: tmp, cwd: '/', env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^hrel\s+\d+\s+running/m);
    expect(list.stderr).toContain(`clusterkit: WARN XDG_RUNTIME_DIR="rt" is not an absolute path`);
    const stop = await cli(['stop', 'hrel'], { runtime: tmp, cwd: join(project, 'two'), env });
    expect(stop.stdout).toContain('stopped hrel: 1 worker stopped gracefully');
    expect(await run.exited()).toBe(0);
    expect(existsSync(join(project, 'one', 'rt'))).toBe(false);
    expect(existsSync(join(project, 'two', 'rt'))).toBe(false);
  });

  it('[H384] an XDG_RUNTIME_DIR naming no existing directory is ignored, not created: the fallback serves, and status finds it', async () => {
    const tmp = runtimeDir();
    const missing = join(tmp, 'missing', 'xx');
    const project = tempProject({ 'server.mjs': kServer });
    const env = { XDG_RUNTIME_DIR: missing, TMPDIR: tmp, PORT: String(await freePort()) };
    const fallback = join(tmp, `clusterkit-${kUid}`);
    const run = startCli(['run', 'server.mjs', '--name', 'hmiss', '-w', '1'], { runtime: tmp, cwd: project, env });
    await run.waitFor(/service hmiss started: 1 worker/);
    expect(run.output()).toContain(`WARN XDG_RUNTIME_DIR=${JSON.stringify(missing)} names no existing directory, so clusterkit ignores it and uses the control directory ${fallback}, as when it is unset.`);
    expect(run.output()).toContain(`control=${join(fallback, 'hmiss.sock')}`);
    // Before: ${missing}/clusterkit was made, every level, and left behind.
    expect(existsSync(join(tmp, 'missing'))).toBe(false);
    // Without the variable, the same directory.
    const status = await cli(['status', 'hmiss', '--json'], { runtime: tmp, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } });
    expect(status.code).toBe(0);
    expect(status.stderr).toBe('');
    const stop = await cli(['stop', 'hmiss'], { runtime: tmp, env });
    expect(stop.stdout).toContain('stopped hmiss: 1 worker stopped gracefully');
    expect(await run.exited()).toBe(0);
    expect(existsSync(join(tmp, 'missing'))).toBe(false);
  });

  // Retest t85 (#5): `ls` said only "No cluster is running.", and a set but ignored XDG_RUNTIME_DIR was named as its source.
  it('[H747] ls, status and a named command with no cluster say where they looked: the variable not set, or set and not used', async () => {
    const tmp = runtimeDir();
    const fallback = join(tmp, `clusterkit-${kUid}`);
    const notSet = `No cluster is running (for this user; looked in ${fallback} (XDG_RUNTIME_DIR is not set here): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen).\n`;
    expect(await cli(['ls'], { runtime: tmp, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } })).toMatchObject({ code: 0, stdout: notSet });
    expect(await cli(['status'], { runtime: tmp, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } })).toMatchObject({ code: 0, stdout: notSet });
    const missing = join(tmp, 'missing');
    const named = await cli(['status', 'api'], { runtime: tmp, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: missing } });
    expect(named.code).toBe(4);
    expect(named.stderr).toContain(`No cluster is running (for this user; looked in ${fallback} (XDG_RUNTIME_DIR names no existing directory, so it is not used): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen)`);
  });
});
