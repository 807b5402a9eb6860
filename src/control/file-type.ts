/**
 * What a file in the control directory is, when it is not what clusterkit put there: its errors
 * say so (`... is a FIFO (named pipe), not a lock file`), so the user knows what to remove.
 */
import type { Stats } from 'node:fs';

/** `a FIFO (named pipe)`, `a directory`...: what a file that is not a regular one is, for a message. */
export function describeFileType(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return stats.isFile() ? 'a regular file' : 'a file of an unknown type';
}
