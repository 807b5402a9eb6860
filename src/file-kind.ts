/**
 * What a path that is not a regular file is, for a message: the CLI's files (a config, an env
 * file, a script) and the control directory's (a lock, a socket) say so when refusing one
 * (`... is a FIFO`), so the user knows what is there and what to remove.
 */
import { lstatSync, statSync, type Stats } from 'node:fs';

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

/** A symbolic link whose target cannot be reached: missing, or a loop of links. */
export function isBrokenLink(path: string): boolean {
  // A name that cannot be looked at (EACCES on its directory) is no link to tell of.
  const isLink = (() => {
    try {
      return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true;
    } catch {
      return false;
    }
  })();
  return isLink && !pathExists(path);
}

/** `ELOOP: a loop of links`, `ENOENT: its target is missing`, or the code as it came. */
export function brokenLinkWhy(path: string): string {
  try {
    statSync(path);
    return 'unknown';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'ELOOP: a loop of links';
    if (code === 'ENOENT') return 'ENOENT: its target is missing';
    return String(code ?? 'unreadable');
  }
}
