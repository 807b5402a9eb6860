import { fstatSync } from 'node:fs';

/**
 * Whether `fd` is an open file descriptor of this process.
 *
 * BigInt stats: on Node 20, a plain `fstatSync()` of a worker's stdio socket made a later
 * `require()` of a package reached through a symbolic link (pnpm's layout, a linked package)
 * skip its real path, and its own dependencies were not found (H533's test caught it: "Cannot
 * find module 'tdigest'" from prom-client). The BigInt form reads into another array.
 */
export function isOpenDescriptor(fd: number): boolean {
  try {
    fstatSync(fd, { bigint: true });
    return true;
  } catch {
    return false;
  }
}
