/**
 * What a path that is not a regular file is, for a message: the CLI's files (a config, an env
 * file, a script) and the control directory's (a lock, a socket) say so when refusing one
 * (`... is a FIFO`), so the user knows what is there and what to remove.
 */
import { lstatSync, statSync, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/** True when something (of any kind) is at `path`. */
export function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `path` is a regular file (symbolic links followed). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return stats.isFile() ? 'a regular file' : 'not a file';
}

/**
 * Why a path that is not there cannot be reached, when that is not a plain absence: a loop of
 * symbolic links in it (ELOOP), a link in it that leads nowhere, a file where a directory should
 * be (ENOTDIR), a directory that cannot be searched (EACCES). Undefined when it is there, or
 * simply missing. "Script not found" said of `loop/x.js` or of a dangling link was untrue
 * (hostile t58, retest t58).
 */
export function unreachableWhy(path: string): string | undefined {
  let code: string | undefined;
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    code = (error as NodeJS.ErrnoException).code;
  }
  if (code === 'ELOOP') return 'a loop of symbolic links in its path (ELOOP)';
  if (code === 'EACCES') return 'a directory in its path cannot be searched (EACCES)';
  // The first part of the path that is a link to nothing, or a file used as a directory.
  const parts = resolve(path).split(sep).filter((part) => part !== '');
  let at: string = sep;
  for (const [index, part] of parts.entries()) {
    at = join(at, part);
    const link = lstatSync(at, { throwIfNoEntry: false });
    if (link === undefined) return undefined;
    if (link.isSymbolicLink() && !pathExists(at)) return `${at} is a symbolic link that leads to no file (ENOENT: its target is missing)`;
    if (index < parts.length - 1 && !statSync(at, { throwIfNoEntry: false })?.isDirectory()) return `${at} is not a directory (ENOTDIR)`;
  }
  return undefined;
}

/**
 * What is wrong with `path` as a directory, for "--cwd: ...": `no such directory: /srv/x`, or,
 * where something is there, what it is (`/srv/x.js is not a directory (it is a regular file)`)
 * or why it cannot be reached (a loop of links, a link to nothing). "No such directory" said of
 * a file that exists was untrue (final retest t58).
 */
export function notDirectoryText(path: string): string {
  let stats: Stats | undefined;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch {
    // unreachable: said below
  }
  if (stats !== undefined) return `${path} is not a directory (it is ${kindOf(stats)})`;
  const why = unreachableWhy(path);
  return why === undefined ? `no such directory: ${path}` : `${path} cannot be reached: ${why}`;
}
