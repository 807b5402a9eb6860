/**
 * Where control sockets live: one directory per user, readable only by that user, one socket
 * per cluster name in it. `$XDG_RUNTIME_DIR/clusterkit` when the session has a runtime
 * directory (systemd creates it 0700 and removes it at logout), else
 * `<os.tmpdir()>/clusterkit-<uid>`. Other users cannot even see which clusters exist.
 * A `XDG_RUNTIME_DIR` that is not an absolute path, or names no existing directory, is ignored
 * (H384), as the XDG Base Directory spec says for a relative one: a relative path is another
 * directory in each working directory (two primaries of one name, a `stop` that reaches the
 * other one), and a missing one would be created as a private tree nobody else looks in.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadOs } from '../builtins.js';
import { ControlSocketError, InvalidOptionError } from '../errors.js';
import { kindOf } from '../file-kind.js';
import { clusterNameProblem, fileNameOf, kClusterNameRule, nameOfFile } from './cluster-name.js';
const kSocketSuffix = '.sock';
/** sun_path holds 108 bytes on Linux and 104 on macOS, terminating NUL included. */
const kMaxSocketPathBytes = process.platform === 'darwin' ? 103 : 107;

/** The control directory, whether or not it exists yet. */
export function controlDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && ignoredRuntimeDirReason(runtime) === undefined) return join(runtime, 'clusterkit');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(loadOs().tmpdir(), `clusterkit-${uid}`);
}

/**
 * Why `XDG_RUNTIME_DIR` (set, not empty) is not used, as a clause; undefined when it is used:
 * it must be an absolute path naming an existing directory (H384).
 */
function ignoredRuntimeDirReason(runtime: string): string | undefined {
  if (!isAbsolute(runtime)) return 'is not an absolute path (the XDG Base Directory spec says to ignore a relative one: it would name another directory in each working directory)';
  try {
    if (!statSync(runtime).isDirectory()) return 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'names no existing directory' : `cannot be read (${code ?? (error as Error).message})`;
  }
  return undefined;
}

let hasWarned = false;

/** `runtimeDirWarning()` the first time it is asked for in this process, then undefined: said once. */
export function takeRuntimeDirWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (hasWarned) return undefined;
  const warning = runtimeDirWarning(env);
  if (warning !== undefined) hasWarned = true;
  return warning;
}

/**
 * The warning to give when `XDG_RUNTIME_DIR` is set but ignored (H384): the variable, why, and
 * the control directory used instead; undefined when it is used, or unset.
 */
export function runtimeDirWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const runtime = env.XDG_RUNTIME_DIR;
  const reason = runtime ? ignoredRuntimeDirReason(runtime) : undefined;
  if (reason === undefined) return undefined;
  return (
    `XDG_RUNTIME_DIR=${JSON.stringify(runtime)} ${reason}, so clusterkit ignores it and uses the control directory ${controlDirectory(env)}, as when it is unset. ` +
    'Set it to an absolute path of an existing directory of your own, or unset it.'
  );
}

/**
 * `name` in NFC (cluster-name.ts), or InvalidOptionError when it cannot name a cluster.
 */
export function checkClusterName(name: unknown, option = 'serviceName'): string {
  const normalized = typeof name === 'string' ? name.normalize('NFC') : undefined;
  const problem = normalized === undefined ? undefined : clusterNameProblem(normalized);
  if (normalized === undefined || problem !== undefined) {
    // Which character and why (H361): `(it has a blank-looking character (U+2800), ...; <the rule>)`.
    throw new InvalidOptionError(option, `a cluster name (${problem === undefined ? '' : `${problem}; `}${kClusterNameRule})`, name);
  }
  return normalized;
}

/**
 * The socket of cluster `name` in `directory`.
 * @throws InvalidOptionError when `name` is not a cluster name (it must not reach outside the directory).
 * @throws ControlSocketError when the path is too long for a Unix socket.
 */
export function socketPathFor(name: string, directory = controlDirectory()): string {
  const path = join(directory, `${fileNameOf(checkClusterName(name, 'name'))}${kSocketSuffix}`);
  if (Buffer.byteLength(path) > kMaxSocketPathBytes) {
    throw new ControlSocketError(`The control socket path ${path} is longer than the ${kMaxSocketPathBytes} bytes a Unix socket path may have. ${socketRoomText(directory)} Use a shorter cluster name, or set XDG_RUNTIME_DIR to a shorter directory.`);
  }
  return path;
}

/**
 * The file where the orphaned workers of cluster `name` (a valid name) leave their last lines
 * when no log file gets their stderr (control/orphan-lines.ts, H417).
 */
export function orphanLinesPath(name: string, directory = controlDirectory()): string {
  return join(directory, `${fileNameOf(name)}.orphans.log`);
}

/**
 * Why the socket of `name` (a valid name, NFC) cannot be made in `directory`, as a clause, with
 * the room there is; undefined when it fits. "1 to 64 characters" holds for ASCII, but a CJK
 * character takes 9 bytes of the file name, so the real limit depends on the letters and on the
 * directory (H281): checked up front, before anything is started or asked.
 */
export function socketRoomProblem(name: string, directory = controlDirectory()): string | undefined {
  const bytes = Buffer.byteLength(fileNameOf(name));
  if (Buffer.byteLength(join(directory, `${fileNameOf(name)}${kSocketSuffix}`)) <= kMaxSocketPathBytes) return undefined;
  return `its control socket's file name would take ${bytes} bytes, and only ${socketRoom(directory)} fit. ${socketRoomText(directory)}`;
}

/** Bytes left for a socket's file name stem in `directory` (the path holds at most kMaxSocketPathBytes). */
function socketRoom(directory: string): number {
  return Math.max(0, kMaxSocketPathBytes - Buffer.byteLength(join(directory, `x${kSocketSuffix}`)) + 1);
}

function socketRoomText(directory: string): string {
  const room = socketRoom(directory);
  return (
    `With the control directory ${directory}, a name may take ${room} bytes in its file name: a letter, digit, "_", "-" or "." takes 1, ` +
    `any other character 3 per UTF-8 byte (about ${Math.floor(room / 9)} Chinese, Japanese or Korean characters, ${Math.floor(room / 12)} emoji).`
  );
}

/**
 * Creates the directory (0700) if needed and checks it: a directory someone else owns, or
 * one others can read, could let them watch or impersonate our clusters. Only the directory
 * itself is created, never its parents (H384): the runtime directory is the session's.
 */
export function ensureControlDirectory(directory = controlDirectory()): string {
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    // EEXIST: something that is not a directory is in the way; the check below says so.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ControlSocketError(`Cannot create the control directory ${directory}: ${(error as Error).message}. Set XDG_RUNTIME_DIR to a directory you can write to.`, { cause: error });
    }
  }
  const stats = checkOwnDirectory(directory, lstatSync(directory));
  // mkdir's mode is filtered by the umask and ignored when the directory already existed.
  if ((stats.mode & 0o777) !== 0o700) chmodSync(directory, 0o700);
  return directory;
}

/**
 * What a client checks before it trusts anything in the control directory: the server's owner
 * rule, and no access for others. Another local user who created the directory first (in a
 * shared temporary directory), or who can write to it, could plant sockets there that invent
 * a status, receive our `stop` and `reload`, and answer with terminal escape sequences.
 * @returns false when the directory does not exist (no cluster runs).
 * @throws ControlSocketError saying what is wrong and what to do.
 */
export function checkControlDirectory(directory = controlDirectory()): boolean {
  let stats: Stats;
  try {
    stats = lstatSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ControlSocketError(`Cannot read the control directory ${directory}: ${(error as Error).message}. Set XDG_RUNTIME_DIR to a directory of your own.`, { cause: error });
  }
  checkOwnDirectory(directory, stats);
  if (ownUid() !== undefined && (stats.mode & 0o077) !== 0) {
    throw new ControlSocketError(
      `The control directory ${directory} is open to other users (mode ${(stats.mode & 0o777).toString(8)}), so a socket in it may not be your cluster's; ` +
        `clusterkit refuses to use it. Make it private with "chmod 700 ${directory}" (or remove it: "clusterkit run" creates it again), or set XDG_RUNTIME_DIR to a directory of your own.`,
    );
  }
  return true;
}

/**
 * The state of the socket at `path` for a client: `absent`, or `ours`.
 * @throws ControlSocketError when something else than a socket of ours is there.
 */
export function checkSocketFile(path: string): 'absent' | 'ours' {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return 'absent';
  }
  if (!stats.isSocket()) throw new ControlSocketError(`${path} is ${kindOf(stats)}, not a socket; remove it, it is not a cluster's.`);
  const uid = ownUid();
  if (uid !== undefined && stats.uid !== uid) {
    throw new ControlSocketError(`The control socket ${path} belongs to uid ${stats.uid}, not to you (uid ${uid}): it is not one of your clusters. Remove it.`);
  }
  return 'ours';
}

/** True when the file at `path` is owned by another user (false when absent, or where there are no uids). */
export function isForeignFile(path: string): boolean {
  const uid = ownUid();
  try {
    return uid !== undefined && lstatSync(path).uid !== uid;
  } catch {
    return false;
  }
}

/** A directory (not a link to one) of this user, or ControlSocketError saying what to do. */
function checkOwnDirectory(directory: string, stats: Stats): Stats {
  if (stats.isSymbolicLink()) {
    throw new ControlSocketError(
      `The control directory ${directory} is a symbolic link (to ${linkTarget(directory)}), which clusterkit refuses: whoever can change the link decides where your clusters' sockets are, ` +
        'so a client could reach a socket that is not your cluster\'s. Remove the link ("clusterkit run" creates the directory), or set XDG_RUNTIME_DIR to a directory of your own.',
    );
  }
  if (!stats.isDirectory()) throw new ControlSocketError(`${directory} exists but is not a directory; remove it so clusterkit can create its control directory there.`);
  const uid = ownUid();
  if (uid !== undefined && stats.uid !== uid) {
    throw new ControlSocketError(
      `The control directory ${directory} belongs to uid ${stats.uid}, not to you (uid ${uid}); another user may have created it to impersonate your clusters, ` +
        'so clusterkit refuses to use it. Have it removed (it needs its owner or root), or set XDG_RUNTIME_DIR to a directory of your own.',
    );
  }
  return stats;
}

/** This process's uid; undefined where there are none (Windows). */
function ownUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
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
    .flatMap((entry) => {
      const name = nameOfFile(entry.slice(0, -kSocketSuffix.length));
      return name === undefined ? [] : [name];
    })
    .sort();
}

/** Where the link at `path` points, for a message. */
function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return 'an unreadable target';
  }
}

/**
 * Where clusters were looked for, as a clause after "No cluster is running (for this user": the
 * control directory, and the variable it comes from. Newcomer t82 #7: a command run with another
 * XDG_RUNTIME_DIR (another shell, sudo, a systemd unit) said "No cluster is running" of a running
 * cluster, naming nothing that would explain it.
 */
export function lookedInClause(directory: string, env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  // One set but not used is said as such (retest t85: "/tmp/clusterkit-0 ($XDG_RUNTIME_DIR/clusterkit)").
  const ignored = runtime ? ignoredRuntimeDirReason(runtime) : undefined;
  const from = !runtime ? 'XDG_RUNTIME_DIR is not set here' : ignored === undefined ? '$XDG_RUNTIME_DIR/clusterkit' : `XDG_RUNTIME_DIR ${ignored}, so it is not used`;
  return `; looked in ${directory} (${from}): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen`;
}

/** `clusterkit ls` / `status` with no cluster running, with where it looked (retest t85: `No cluster is running.` alone). */
export function noClusterLine(directory: string = controlDirectory()): string {
  return `No cluster is running (for this user${lookedInClause(directory)}).\n`;
}
