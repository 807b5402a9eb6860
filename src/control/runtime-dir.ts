/**
 * Where control sockets live: one directory per user, readable only by that user, one socket
 * per cluster name in it. `$XDG_RUNTIME_DIR/clusterkit` when the session has a runtime
 * directory (systemd creates it 0700 and removes it at logout), else
 * `<os.tmpdir()>/clusterkit-<uid>`. Other users cannot even see which clusters exist.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlSocketError, InvalidOptionError } from '../errors.js';

/** Letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters. */
export const kClusterNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const kSocketSuffix = '.sock';
/** sun_path holds 108 bytes on Linux and 104 on macOS, terminating NUL included. */
const kMaxSocketPathBytes = process.platform === 'darwin' ? 103 : 107;

/** The control directory, whether or not it exists yet. */
export function controlDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) return join(runtime, 'clusterkit');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `clusterkit-${uid}`);
}

/** Throws InvalidOptionError unless `name` can name a cluster (it becomes a file name). */
export function checkClusterName(name: unknown, option = 'serviceName'): string {
  if (typeof name !== 'string' || !kClusterNamePattern.test(name)) {
    throw new InvalidOptionError(option, 'a cluster name: letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64 characters', name);
  }
  return name;
}

export function socketPathFor(name: string, directory = controlDirectory()): string {
  const path = join(directory, `${name}${kSocketSuffix}`);
  if (Buffer.byteLength(path) > kMaxSocketPathBytes) {
    throw new ControlSocketError(
      `The control socket path ${path} is longer than the ${kMaxSocketPathBytes} bytes a Unix socket path may have. ` +
        'Use a shorter cluster name, or set XDG_RUNTIME_DIR to a shorter directory.',
    );
  }
  return path;
}

/**
 * Creates the directory (0700) if needed and checks it: a directory someone else owns, or
 * one others can read, could let them watch or impersonate our clusters.
 */
export function ensureControlDirectory(directory = controlDirectory()): string {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    // EEXIST: something that is not a directory is in the way; the check below says so.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ControlSocketError(`Cannot create the control directory ${directory}: ${(error as Error).message}. Set XDG_RUNTIME_DIR to a directory you can write to.`, { cause: error });
    }
  }
  const stats = lstatSync(directory);
  if (!stats.isDirectory()) throw new ControlSocketError(`${directory} exists but is not a directory; remove it so clusterkit can create its control directory there.`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stats.uid;
  if (stats.uid !== uid) {
    throw new ControlSocketError(`The control directory ${directory} belongs to uid ${stats.uid}, not to this user (uid ${uid}). Remove it, or set XDG_RUNTIME_DIR to a directory of your own.`);
  }
  // mkdir's mode is filtered by the umask and ignored when the directory already existed.
  if ((stats.mode & 0o777) !== 0o700) chmodSync(directory, 0o700);
  return directory;
}

/** Names of the clusters that have a socket file (live or stale), sorted. */
export function socketNames(directory = controlDirectory()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.endsWith(kSocketSuffix))
    .map((entry) => entry.slice(0, -kSocketSuffix.length))
    .filter((name) => kClusterNamePattern.test(name))
    .sort();
}
