/**
 * `$crash`: what a worker said it dies of (an uncaught exception or unhandled rejection),
 * sent from its 'exit' just before the primary sees the exit. Kept on its record, control
 * characters escaped (it is the worker's text, bound for log lines and error messages), for
 * `workerCrash.error`, the crash line and the crash-loop error's "Last crash".
 *
 * `$exiting`, and `$crash`'s `openRequests`: the requests the worker had open as it exited,
 * newer than its last heartbeat's count (`WorkerRecord.openAtExit`, read by `lostRequests()`).
 * Both are taken outside a stop the primary asked for (that stop has its own notices), and in
 * one the worker had not read yet (`saysOwnExit`), with a count no worker can exceed
 * (`kMaxOpenRequests`; above it, dropped as `out-of-range`).
 * `$crash` once per life; `$exiting` each time, the newest count winning: the real one is
 * written in 'exit', last, so a forged one sent before it cannot stand (it once did, and the
 * real one was reported as dropped). A heartbeat answer after them drops what they said: the
 * worker lived on.
 */
import { escapeControlChars } from '../../control/control-chars.js';
import { hasPlausibleOpenRequests, isCrashPayload, isExitingPayload, kCrashNotice, kExitingNotice, type UncaughtError } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerRecord } from './worker-record.js';

export function registerCrashNotice({ system }: Pick<PrimaryContext, 'system'>): void {
  system.register(kCrashNotice, {
    kind: 'notification',
    check: isCrashPayload,
    inRange: hasPlausibleOpenRequests,
    // Once per life: a second one is forged, dropped and counted.
    when: (record) => !record.hasSaidCrash,
    handle: ({ origin, name, message, code, location, openRequests, idleConnections }, record) => {
      record.hasSaidCrash = true;
      record.exitSaidAt = Date.now();
      if (openRequests !== undefined && saysOwnExit(record)) {
        record.openAtExit = openRequests;
        record.idleAtExit = idleConnections;
      }
      record.uncaughtError = {
        origin,
        name: escapeControlChars(name),
        message: escapeControlChars(message),
        ...(code === undefined ? {} : { code: escapeControlChars(code) }),
        ...(location === undefined ? {} : { location: escapeControlChars(location) }),
      };
    },
  });
  system.register(kExitingNotice, {
    kind: 'notification',
    check: isExitingPayload,
    inRange: hasPlausibleOpenRequests,
    when: saysOwnExit,
    handle: ({ openRequests, idleConnections }, record) => {
      record.exitSaidAt = Date.now();
      record.openAtExit = openRequests;
      record.idleAtExit = idleConnections;
    },
  });
}

/**
 * Whether the worker's word on its exit is its own: not in a stop the primary asked for, or in
 * one it had not read when it exited (the worker failing its start as the shutdown began, H188).
 * The primary's `$shutdown` and the worker's `$exiting` cross on the channel: a worker exits
 * without reading what is still in its pipe. One that read it says `$stopping` first (it does
 * whenever it has servers, as `$exiting` needs), and never `$exiting` after.
 */
function saysOwnExit(record: WorkerRecord): boolean {
  return !record.isAskedToStop || record.stopRequestsSeen === undefined;
}

/** `an uncaught TypeError: x is undefined at /srv/api.js:12:7`; `an unhandled rejection with Error: ...`. */
export function describeUncaughtError({ origin, name, message, location }: UncaughtError): string {
  // After a message of several sentences, a bare "at ..." read as part of its last one (newcomer
  // t60: "... to a handler of the primary's at app.ts:21:57"): said as the throw's place then.
  // So after one of several lines, escaped `\n` by now (a wrapped error's stack, retest t60).
  const where = location === undefined ? '' : /[.!?;]\s+\S|\n|\\n/.test(message.replace(/\.$/, '')) ? ` (thrown at ${location})` : ` at ${location}`;
  // Messages end the sentence they are put in: their own final period would double it.
  const text = `${name}: ${message.replace(/\.$/, '')}${where}`;
  return origin === 'unhandledRejection' ? `an unhandled rejection with ${text}` : `an uncaught ${text}`;
}
