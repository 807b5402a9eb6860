/**
 * `$crash`: what a worker said it dies of (an uncaught exception or unhandled rejection),
 * sent from its 'exit' just before the primary sees the exit. Kept on its record, control
 * characters escaped (it is the worker's text, bound for log lines and error messages), for
 * `workerCrash.error`, the crash line and the crash-loop error's "Last crash".
 */
import { escapeControlChars } from '../../control/control-chars.js';
import { isCrashPayload, kCrashNotice, type UncaughtError } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';

export function registerCrashNotice({ system }: Pick<PrimaryContext, 'system'>): void {
  system.register(kCrashNotice, {
    kind: 'notification',
    check: isCrashPayload,
    // Once per life: a second one is forged, dropped and counted.
    when: (record) => record.uncaughtError === undefined,
    handle: ({ origin, name, message, code, location }, record) => {
      record.uncaughtError = {
        origin,
        name: escapeControlChars(name),
        message: escapeControlChars(message),
        ...(code === undefined ? {} : { code: escapeControlChars(code) }),
        ...(location === undefined ? {} : { location: escapeControlChars(location) }),
      };
    },
  });
}

/** `an uncaught TypeError: x is undefined at /srv/api.js:12:7`; `an unhandled rejection with Error: ...`. */
export function describeUncaughtError({ origin, name, message, location }: UncaughtError): string {
  const where = location === undefined ? '' : ` at ${location}`;
  // Messages end the sentence they are put in: their own final period would double it.
  const text = `${name}: ${message.replace(/\.$/, '')}${where}`;
  return origin === 'unhandledRejection' ? `an unhandled rejection with ${text}` : `an uncaught ${text}`;
}
