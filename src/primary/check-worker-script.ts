/**
 * The worker script checked at `start()`, before any fork: a missing one would otherwise fail
 * each worker in turn, 3 Node stack dumps before a CrashLoopError (H251). Node resolves a script
 * without its extension (`node server` runs server.js, or server.ts under a loader), so a path
 * that is not there is refused only when no file starts with its name and a dot.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { WorkerModuleError } from '../errors.js';

/**
 * @param cwd The workers' directory: a relative script is found from there, as a worker does.
 * @throws WorkerModuleError (`not-found` or `unreadable`) naming the script.
 */
export function checkWorkerScript(given: string, cwd: string | undefined): void {
  const script = resolve(cwd ?? '.', given);
  try {
    accessSync(script, constants.R_OK);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new WorkerModuleError(script, 'unreadable', { noun: 'worker script', cause: error });
    if (!hasExtensionSibling(script)) throw new WorkerModuleError(script, 'not-found', { noun: 'worker script', cause: error });
  }
}

function hasExtensionSibling(script: string): boolean {
  const prefix = `${basename(script)}.`;
  try {
    return readdirSync(dirname(script)).some((name) => name.startsWith(prefix));
  } catch {
    return false;
  }
}
