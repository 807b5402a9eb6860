/**
 * [H112] The lock file that claims a cluster name: a live holder keeps it, a dead one's lock is
 * taken over only through its takeover claim, and a release never removes a lock that is not
 * ours. Holders are real processes (a dead pid is one that has exited).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { deadAfterDrop } from '../../src/control/dead-after-drop.js';
import { claimNameLock, isPidAlive, lockHolder, type LockHolder } from '../../src/control/name-lock.js';
import { ClusterNameInUseError, ControlSocketError } from '../../src/errors.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function directory(): string {
  const where = mkdtempSync(join(tmpdir(), 'ck-lock-'));
  cleanups.push(() => rmSync(where, { recursive: true, force: true }));
  return where;
}

/** A process that stays up until the test ends. */
async function liveProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  await once(child, 'spawn');
  return child;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

const alive = (path: string) => (holder: LockHolder) => isPidAlive(holder.pid, path);

describe('[H112] claimNameLock', () => {
  it('[H112] takes over the lock of a dead process, and refuses one held by a live process or by this one, naming the pid', async () => {
    const where = directory();
    const lock = join(where, 'web.lock');
    writeFileSync(lock, `${await deadPid()}\n`);
    const claimed = await claimNameLock('web', lock, join(where, 'web.sock'), alive(lock));
    cleanups.push(() => claimed.release());
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    const again = claimNameLock('web', lock, join(where, 'web.sock'), alive(lock));
    await expect(again).rejects.toBeInstanceOf(ClusterNameInUseError);
    await expect(again).rejects.toHaveProperty('pid', process.pid);
    claimed.release();
    expect(existsSync(lock)).toBe(false);

    const holder = await liveProcess();
    writeFileSync(lock, `${holder.pid}\n`);
    await expect(claimNameLock('web', lock, join(where, 'web.sock'), alive(lock))).rejects.toThrow(
      `A cluster named "web" is already running (primary pid ${holder.pid}). Stop it first ("clusterkit stop web"), or choose another name.`,
    );
    expect(readFileSync(lock, 'utf8')).toBe(`${holder.pid}\n`);
  });

  it('[H112] a stale lock is deleted only under its takeover claim: a live taker is waited for, a dead one is taken over; junk is stale', async () => {
    const where = directory();
    const lock = join(where, 'api.lock');
    writeFileSync(lock, `${await deadPid()}\n`);
    const takeover = `${lock}.takeover-${lstatSync(lock).ino}`;
    const taker = await liveProcess();
    writeFileSync(takeover, `${taker.pid}\n`);
    // Another starter is deleting this very lock: it is left to it, and this one gives up saying what to do.
    const blocked = claimNameLock('api', lock, join(where, 'api.sock'), alive(lock));
    await expect(blocked).rejects.toBeInstanceOf(ControlSocketError);
    await expect(blocked).rejects.toThrow(/If no "clusterkit run" with this name is starting, remove both files and start again\.$/);
    expect(existsSync(lock)).toBe(true);

    // A taker that died between two system calls: its claim is taken over in turn.
    writeFileSync(takeover, `${await deadPid()}\n`);
    const claimed = await claimNameLock('api', lock, join(where, 'api.sock'), alive(lock));
    cleanups.push(() => claimed.release());
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    expect(existsSync(takeover)).toBe(false);
    claimed.release();

    writeFileSync(lock, 'not a pid');
    const overJunk = await claimNameLock('api', lock, join(where, 'api.sock'), alive(lock));
    cleanups.push(() => overJunk.release());
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('[H112] release leaves a lock that is no longer ours', async () => {
    const where = directory();
    const lock = join(where, 'db.lock');
    const claimed = await claimNameLock('db', lock, join(where, 'db.sock'), alive(lock));
    // Someone took it over (it looked stale to them) and claimed it.
    unlinkSync(lock);
    writeFileSync(lock, '4242\n');
    claimed.release();
    expect(readFileSync(lock, 'utf8')).toBe('4242\n');
  });

  it('[H124] a symbolic link or a directory at the lock\'s name is refused, saying what it is and to remove it; the link is not followed', async () => {
    const where = directory();
    const lock = join(where, 'app.lock');
    const target = join(where, 'elsewhere');
    const holder = await liveProcess();
    writeFileSync(target, `${holder.pid}\n`);
    symlinkSync(target, lock);
    // Before: the link was followed, and its target's live pid held the name.
    const linked = claimNameLock('app', lock, join(where, 'app.sock'), alive(lock));
    await expect(linked).rejects.toBeInstanceOf(ControlSocketError);
    await expect(linked).rejects.toThrow(`${lock} is a symbolic link, not a lock file: clusterkit makes its locks as small regular files`);
    unlinkSync(lock);
    mkdirSync(lock);
    await expect(claimNameLock('app', lock, join(where, 'app.sock'), alive(lock))).rejects.toThrow(
      `${lock} is a directory, not a lock file: clusterkit makes its locks as small regular files, so it did not put this there, and will not read it. Remove it (if no "clusterkit run" with this name is starting) and start again.`,
    );
  });
});

describe('[H507] a dropped connection\'s primary, looked at as it dies', () => {
  it('[H507] lockHolder reads the holder and its life at once; deadAfterDrop says dead for a holder that dies at any moment of the look', async () => {
    const where = directory();
    const socket = join(where, 'web.sock');
    const lock = join(where, 'web.lock');
    writeFileSync(socket, '');
    expect(lockHolder(socket)).toBeUndefined();
    const holder = await liveProcess();
    writeFileSync(lock, `${holder.pid}\n`);
    expect(lockHolder(socket)).toEqual({ pid: holder.pid, isAlive: true });
    // Before: dead, then alive were two reads; a holder dying between them read as neither, and
    // the drop was told as a primary that did not answer (CI, [H461]).
    for (let round = 0; round < 20; round++) {
      const dying = spawn(process.execPath, ['-e', `setTimeout(() => {}, ${round})`], { stdio: 'ignore' });
      cleanups.push(() => dying.kill('SIGKILL'));
      await once(dying, 'spawn');
      writeFileSync(lock, `${dying.pid}\n`);
      await expect(deadAfterDrop(socket, 20_000)).resolves.toEqual({ pid: dying.pid });
      expect(lockHolder(socket)).toEqual({ pid: dying.pid, isAlive: false });
    }
  });
});
