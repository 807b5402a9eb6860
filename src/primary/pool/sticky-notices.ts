/**
 * The notices about sticky sessions a worker sends: `$sticky` (it called `serveSticky()`: it
 * takes part in `listenSticky()`'s hashing once ready) and `$stickyRefused` (a sticky connection
 * reached it and it could not serve it: it closed it). A worker that refused one gets no more
 * for the rest of its life, and the refusal is reported (`stickyRefused`, at most one event per
 * worker per 10 s), so a client is never reset without a line anywhere.
 */
import { isNoPayload, kStickyNotice, kStickyRefusedNotice } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import { RateLimitedWarning } from './rate-limited-warning.js';

export function registerStickyNotices({ system, emit }: Pick<PrimaryContext, 'system' | 'emit'>): void {
  system.register(kStickyNotice, {
    kind: 'notification',
    check: isNoPayload,
    // Once per life, and never again after a refusal: a second one is forged, dropped and counted.
    when: (record) => !record.servesSticky && record.stickyRefused === 0 && record.state !== 'exited',
    handle: (_, record) => {
      record.servesSticky = true;
    },
  });
  system.register(kStickyRefusedNotice, {
    kind: 'notification',
    check: isNoPayload,
    // Only a worker that said it serves sticky is handed sticky connections; from any other
    // worker the notice is forged, dropped and counted. Later ones count the connections that
    // were already on their way when it refused the first. Each answers a connection handed to
    // it: one more than it was handed is forged too (hostile tester t57: a worker that never got
    // one, with no sticky listener at all, was reported refusing, H544).
    when: (record) => (record.servesSticky || record.stickyRefused > 0) && record.stickyRefused < record.stickyHanded,
    handle: (_, record) => {
      record.servesSticky = false;
      record.stickyRefused++;
      record.stickyWarning ??= new RateLimitedWarning<number>(
        (held, next) => (held ?? 0) + next,
        (count) => emit('stickyRefused', { reason: 'worker-refused', worker: record.handle, count }),
      );
      record.stickyWarning.note(1);
    },
  });
}
