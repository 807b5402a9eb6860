/**
 * The worker script checked at `start()`, before any fork: a missing one would otherwise fail
 * each worker in turn, 3 Node stack dumps before a CrashLoopError (H251). Node resolves a script
 * without its extension (`node server` runs server.js, or server.ts under a loader), so a path
 * that is not there is refused only when no file starts with its name and a dot.
 */
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { WorkerModuleError } from '../errors.js';
import { siblingAdvice } from '../typescript-sibling.js';

/**
 * @param cwd The workers' directory: a relative script is found from there, as a worker does.
 * @throws WorkerModuleError (`not-found` or `unreadable`) naming the script.
 */
export function checkWorkerScript(given: string, cwd: string | undefined): void {
  const script = resolve(cwd ?? '.', given);
  try {
    accessSync(script, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new WorkerModuleError(script, 'unreadable', { noun: 'worker script', cause: error });
    if (!hasExtensionSibling(script)) {
      // `worker.js` missing beside `worker.ts`, and nothing loads TypeScript (else the options ran the sibling, H380).
      throw new WorkerModuleError(script, 'not-found', { noun: 'worker script', cause: error, advice: siblingAdvice(script, false), isRelative: !isAbsolute(given) });
    }
    return;
  }
  // A directory runs as Node runs one (its package.json "main", or index.js); without either,
  // each worker would fail on it in turn, as on a missing file (retester t28).
  if (isDirectory(script) && !hasEntry(script)) {
    const cause = Object.assign(new Error('it is a directory with neither a package.json nor an index file; name the file to run'), { code: 'EISDIR' });
    throw new WorkerModuleError(script, 'unreadable', { noun: 'worker script', cause });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function hasEntry(directory: string): boolean {
  try {
    return readdirSync(directory).some((name) => name === 'package.json' || name.startsWith('index.'));
  } catch {
    return false;
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
