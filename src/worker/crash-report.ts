/**
 * Telling the primary what a worker dies of. An uncaught exception or unhandled rejection ends
 * the process with code 1, and the primary saw only that code: its crash line and crash-loop
 * error could not say why. `uncaughtExceptionMonitor` sees the error first without changing
 * what Node does (the process still dies and prints it as before); the error is described then
 * (name, message, code, first own stack frame, each bounded) and sent from the process's 'exit',
 * whose messages are written synchronously (exit-flush.ts).
 *
 * Only a death is reported. A handler of the user's for 'uncaughtException' may keep the process
 * alive: the description is forgotten when the turn ends, so only an exit in the same turn (no
 * handler, or one that calls `process.exit(1)`) sends it. One listener of each, added once per
 * process at `start()`: nothing on the message path.
 */
import { fileURLToPath } from 'node:url';
import { isError, readProperty } from '../readable-error.js';
import { cut, kMaxCrashTextLength, kMaxErrorNameLength, type UncaughtError } from '../messaging/system-types.js';
import { serializeError } from '../messaging/serialize-error.js';
import { errorLocation } from '../runner/error-location.js';

/** Installs the monitor; `tell` sends the description to the primary (and must not throw). */
export function reportCrashes(tell: (crash: UncaughtError) => void): void {
  let crash: UncaughtError | undefined;
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    const described = describeUncaught(error, origin);
    crash = described;
    // Still alive once this turn ends: a handler kept the process running, no crash.
    setImmediate(() => {
      if (crash === described) crash = undefined;
    }).unref();
  });
  process.on('exit', (code) => {
    if (crash === undefined || code === 0) return;
    const told = crash;
    crash = undefined;
    tell(told);
  });
}

/** The error in a few bounded fields; never throws (anything can be thrown, a getter may throw). */
export function describeUncaught(error: unknown, origin: string): UncaughtError {
  const kind = origin === 'unhandledRejection' ? 'unhandledRejection' : 'uncaughtException';
  try {
    // serializeError reads each field once, safely; the stack is read again only for its frames.
    const { name, message, code } = serializeError(error);
    const location = errorLocation(error) ?? firstFrame(error);
    return {
      origin: kind,
      name: cut(name, kMaxErrorNameLength),
      message: cut(message, kMaxCrashTextLength),
      ...(code === undefined ? {} : { code: cut(code, kMaxErrorNameLength) }),
      ...(location === undefined ? {} : { location: cut(location, kMaxCrashTextLength) }),
    };
  } catch {
    return { origin: kind, name: 'Error', message: 'a value that could not be read' };
  }
}

/** A stack line's file and position: `    at fn (file:///srv/a.js:3:7)`, `    at /srv/a.js:3:7`. */
const kFrameLine = /^\s+at (?:.*?\()?(file:\/\/\/[^\s)]+|\/[^\s():]+):(\d+):(\d+)\)?$/m;

/**
 * The first stack frame in a file, whoever's: `errorLocation` passes over the files in
 * clusterkit's own directory, and an application bundled with clusterkit inside (esbuild, a
 * single-file deploy) has all its frames there.
 */
function firstFrame(error: unknown): string | undefined {
  const stack = isError(error) ? readProperty(error, 'stack') : undefined;
  const match = typeof stack === 'string' ? kFrameLine.exec(stack) : null;
  if (!match) return undefined;
  let file = match[1]!;
  try {
    if (file.startsWith('file:')) file = fileURLToPath(file);
  } catch {
    return undefined;
  }
  return `${file}:${match[2]}:${match[3]}`;
}
