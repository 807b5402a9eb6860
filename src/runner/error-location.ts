/**
 * Where an import failure happened, for error messages: the first stack frame (or, for a
 * syntax error, the `file:line` header Node prints) that points into the user's code.
 */
import { dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isError, readProperty } from '../readable-error.js';

const kFrame = /(?:^|[\s(])(file:\/\/\/[^\s)]+?|\/[^\s():]+):(\d+)(?::(\d+))?/gm;
/**
 * This package's own code, which is never where the user's error is. Read on first use: reading
 * `import.meta` at load costs every worker's start a few milliseconds (Node builds it lazily).
 */
let ownDirectory: string | undefined;

/**
 * `/srv/api/server.js:3:7`, or undefined when the stack says nothing useful. An ES module's
 * syntax error has no frame in the user's file: `modulePath` is then checked with
 * `node --check`, which prints where the error is.
 */
export function errorLocation(error: unknown, modulePath?: string): string | undefined {
  // A module may throw anything: a revoked Proxy (`instanceof` throws), a throwing `stack` getter.
  const stack = isError(error) ? readProperty(error, 'stack') : undefined;
  if (typeof stack !== 'string' || !stack) return undefined;
  // The message is in the stack too: a path in it (`see /etc/x.conf:12`) is no frame (retest t60).
  const message = readProperty(error as object, 'message');
  const location = locationInStack(typeof message === 'string' && message !== '' ? stack.replace(message, '') : stack);
  if (location || !isSyntaxError(error) || !modulePath) return location;
  return syntaxErrorLocation(modulePath);
}

/**
 * Where a stack says an error was thrown, for an error known only by its stack (a worker's
 * `_init` failure, read in the primary, H381): the first frame in the user's code, else the
 * first frame in any file (an application bundled with clusterkit inside has all its frames in
 * clusterkit's directory), as a crash line's `at` says it.
 */
export function stackLocation(stack: string | undefined): string | undefined {
  if (typeof stack !== 'string' || stack === '') return undefined;
  // Its frames only, when it has some: the lines before them are the error's own words.
  const firstFrame = stack.search(/^\s+at /m);
  const location = locationInStack(firstFrame > 0 ? stack.slice(firstFrame) : stack);
  if (location !== undefined) return location;
  const match = kFrameLine.exec(stack);
  if (!match) return undefined;
  const file = match[1]!.startsWith('file:') ? safePath(match[1]!) : match[1]!;
  return file === undefined ? undefined : `${file}:${match[2]}:${match[3]}`;
}

/** A stack line's file and position: `    at fn (file:///srv/a.js:3:7)`, `    at /srv/a.js:3:7`. */
const kFrameLine = /^\s+at (?:.*?\()?(file:\/\/\/[^\s)]+|\/[^\s():]+):(\d+):(\d+)\)?$/m;

function isSyntaxError(error: unknown): boolean {
  try {
    return error instanceof SyntaxError;
  } catch {
    return false;
  }
}

function locationInStack(stack: string): string | undefined {
  let dependency: string | undefined;
  for (const match of stack.matchAll(kFrame)) {
    const file = match[1]!.startsWith('file:') ? safePath(match[1]!) : match[1]!;
    ownDirectory ??= dirname(fileURLToPath(import.meta.url));
    if (!file || file.startsWith(ownDirectory)) continue;
    const location = `${file}:${match[2]}${match[3] ? `:${match[3]}` : ''}`;
    // A frame in the user's own code says more than one inside a dependency it called.
    if (!file.includes('/node_modules/')) return location;
    dependency ??= location;
  }
  return dependency;
}

function safePath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/** Only on a failed start, so the extra process costs nothing in normal operation. */
function syntaxErrorLocation(modulePath: string): string | undefined {
  if (!['.js', '.mjs', '.cjs'].includes(extname(modulePath))) return undefined;
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const check = spawnSync(process.execPath, ['--check', modulePath], { encoding: 'utf8', timeout: 5_000 });
  return locationInStack(check.stderr ?? '');
}
