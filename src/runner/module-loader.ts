/**
 * Importing a worker module, with failures turned into `WorkerModuleError`s that name the
 * module, the cause and where it happened.
 */
import { accessSync } from 'node:fs';
import { WorkerModuleError } from '../errors.js';
import { isError } from '../readable-error.js';
import { errorLocation } from './error-location.js';
import { siblingAdvice } from '../typescript-sibling.js';

export interface ModuleRef {
  /** Absolute path, for messages and the existence check. */
  readonly path: string;
  /** What the module is called in messages: `worker module`, `script`. */
  readonly noun: string;
  /** The path was given relative: a `not-found` says it was found from the current directory. */
  readonly isRelative?: boolean;
  /** `clusterkit run`'s script: a missing `.js` file's TypeScript sibling is run with --node-arg. */
  readonly isCli?: boolean;
}

/**
 * @throws WorkerModuleError: `not-found` when there is no file at `ref.path`, `unreadable` when
 * the system refuses to look (EACCES on a directory on the way); `cause`: the system's error, as
 * `ClusterPrimary`'s check of its `workerScript` gives it (newcomer t61: none here).
 */
export function checkModuleExists(ref: ModuleRef): void {
  try {
    accessSync(ref.path);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new WorkerModuleError(ref.path, 'unreadable', { noun: ref.noun, cause: error });
    // `server.js` missing beside `server.ts`, and nothing loads TypeScript (else the sibling was taken, H380).
    throw new WorkerModuleError(ref.path, 'not-found', { noun: ref.noun, advice: siblingAdvice(ref.path, ref.isCli === true), isRelative: ref.isRelative, cause: error });
  }
}

/** Runs `load` and wraps whatever it throws. */
export async function loadModule<T>(ref: ModuleRef, load: () => Promise<T> | T): Promise<T> {
  try {
    return await load();
  } catch (error) {
    // isError() first: `instanceof` throws on a revoked Proxy, and a module may throw anything.
    if (isError(error) && error instanceof WorkerModuleError) throw error;
    throw new WorkerModuleError(ref.path, 'import-failed', { cause: error, noun: ref.noun, location: errorLocation(error, ref.path) });
  }
}

/** @throws WorkerModuleError (`no-exports`) for a module namespace without a single export. */
export function checkHasExports(ref: ModuleRef, namespace: object): void {
  if (Object.keys(namespace).length === 0) throw new WorkerModuleError(ref.path, 'no-exports', { noun: ref.noun });
}
