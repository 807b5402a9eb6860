/**
 * What the control directory keeps of a cluster's last clean stop: `<name>.stopped`, holding the
 * pid of the primary and when its shutdown ended. A primary whose stop was asked for (a stop
 * signal, `clusterkit stop`, `shutdown()`, its launcher's end) writes it as it closes its
 * control socket, before it releases the name; the next primary of that name deletes it once it
 * holds the name. So the record, when there, is the last thing that happened to that name.
 *
 * Without it, a `clusterkit stop` that came a moment after another's (both typed at once, a
 * script and a person) found no socket and exited 4, "no cluster named ... is running", as for a
 * name that never ran: the exit code depended on timing (H453). With it, that stop says the
 * cluster was already stopped and exits 0, as `systemctl stop` of a stopped unit does.
 *
 * A primary killed (SIGKILL, a crash) writes none: its lock and socket stay behind, and say so
 * (name-lock.ts `deadLockHolder`). The file is read as the lock is: a small regular file, no
 * link followed, no wait.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { ShutdownRequester } from '../primary/primary-events.js';
import type { ControlServer } from './control-server.js';
import { controlDirectory, socketPathFor } from './runtime-dir.js';

/** A clean stop this recent (ms) counts for `clusterkit stop`: older, the name is "not running" again (exit 4). */
export const kRecentStopMs = 60_000;

/** How far ahead of this clock a record's time may be (ms): a clock stepped back by a moment. */
const kFutureSlackMs = 5_000;

/** The most a record holds: `{"pid":<10 digits>,"at":<16 digits>,"forced":"SIGTERM"}` and a newline, with room. */
const kMaxRecordBytes = 96;

export interface StopRecord {
  /** The primary that stopped. */
  readonly pid: number;
  /** When its shutdown ended (ms since the epoch). */
  readonly at: number;
  /**
   * The signal that forced the stop (`SIGTERM`, `SIGINT`: a second stop signal during the
   * shutdown), when it was forced: its workers were killed and it exited at once, before a
   * `clusterkit stop` waiting on it was answered. That stop then says so, not "or it crashed"
   * (retest t61 L6).
   */
  readonly forced?: string;
}

/** `<directory>/<name>.stopped`, beside the cluster's socket. */
export function stopRecordPath(name: string, directory = controlDirectory()): string {
  return recordBeside(socketPathFor(name, directory));
}

/** The record's path beside the control socket at `socketPath`. */
export function recordBeside(socketPath: string): string {
  return socketPath.replace(/\.sock$/, '.stopped');
}

/**
 * Records that this process's primary of `name` stopped cleanly, now. Best effort: a record
 * that cannot be written leaves `clusterkit stop` where it was (exit 4), nothing worse.
 */
export function writeStopRecord(socketPath: string, forced?: string): void {
  const path = recordBeside(socketPath);
  const draft = `${path}.${process.pid}.draft`;
  try {
    // Made new ('wx'): never written through a link left at the draft's name.
    writeFileSync(draft, `${JSON.stringify({ pid: process.pid, at: Date.now(), ...(forced === undefined ? {} : { forced }) })}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(draft, path);
  } catch {
    try {
      unlinkSync(draft);
    } catch {
      // never made
    }
  }
}

/** Deletes the record beside `socketPath`: a new primary holds the name. Then sweeps the directory's expired records. */
export function clearStopRecord(socketPath: string): void {
  try {
    unlinkSync(recordBeside(socketPath));
  } catch {
    // none
  }
  sweepExpiredStopRecords(dirname(socketPath));
}

/** Entries of the control directory looked at by one sweep: a directory of a million names costs one start no more. */
const kMaxSweptEntries = 10_000;

/**
 * Deletes the stop records in `directory` older than `kRecentStopMs` (and the slack), which no
 * stop reads any more, and drafts a primary left as it died. A name never run again kept its
 * record for good: 40 of them in a day of testing (hostile t64), without bound on a CI host
 * that runs many short-lived names. Only regular files of this user, by their modification
 * time; best effort, never throws.
 */
export function sweepExpiredStopRecords(directory: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(directory).slice(0, kMaxSweptEntries);
  } catch {
    return;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  for (const name of names) {
    if (!name.endsWith('.stopped') && !name.endsWith('.draft')) continue;
    const path = join(directory, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isFile() || (uid !== undefined && stats.uid !== uid) || now - stats.mtimeMs <= kRecentStopMs + kFutureSlackMs) continue;
      unlinkSync(path);
    } catch {
      // gone meanwhile, or not ours to delete
    }
  }
}

/**
 * The last clean stop of `name`, when it is recorded and at most `kRecentStopMs` old (a clock
 * stepped back counts it as new); undefined otherwise, or when the file is not a record of ours.
 */
export function recentStop(name: string, directory = controlDirectory(), now = Date.now()): StopRecord | undefined {
  const record = readStopRecord(stopRecordPath(name, directory));
  if (record === undefined) return undefined;
  // A record from the future (a hostile or broken file; a clock stepped back by more than the slack) is none.
  return now - record.at <= kRecentStopMs && record.at - now <= kFutureSlackMs ? record : undefined;
}

export function readStopRecord(path: string): StopRecord | undefined {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const stats = fstatSync(descriptor);
    if (!stats.isFile() || (typeof process.getuid === 'function' && stats.uid !== process.getuid())) return undefined;
    const buffer = Buffer.alloc(kMaxRecordBytes + 1);
    const text = buffer.toString('utf8', 0, readSync(descriptor, buffer, 0, buffer.length, 0));
    if (text.length > kMaxRecordBytes) return undefined;
    const { pid, at, forced } = JSON.parse(text) as Partial<StopRecord>;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || !Number.isSafeInteger(at)) return undefined;
    // A signal's name, or nothing: the file is read back into a message.
    return { pid: pid as number, at: at as number, ...(typeof forced === 'string' && /^SIG[A-Z0-9]{1,10}$/.test(forced) ? { forced } : {}) };
  } catch {
    return undefined;
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** The requesters whose shutdown is a stop someone asked for: a failed start or a crash loop's end is no clean stop. */
const kAskedStops: ReadonlySet<ShutdownRequester> = new Set<ShutdownRequester>(['signal', 'control', 'call', 'launcher']);

/**
 * Marks the control socket `server()` stopped (`ControlServer.markStopped`) once `primary`'s
 * shutdown has ended, when that shutdown was asked for.
 */
export function markAskedStop(primary: ClusterPrimary, server: () => ControlServer | undefined): void {
  let isAsked = false;
  primary.once('shutdown', ({ requestedBy }) => (isAsked = requestedBy !== undefined && kAskedStops.has(requestedBy)));
  primary.once('shutdownComplete', () => {
    if (isAsked) server()?.markStopped();
  });
  // A forced stop has no shutdownComplete: the primary exits at once, and its record says by what.
  primary.once('shutdownForced', ({ signal }) => server()?.markStopped(signal));
}
