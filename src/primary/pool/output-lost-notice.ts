/**
 * `$outputLost`: a worker exits with output it wrote (stdout, stderr) still held in its process,
 * which its `process.exit()` drops: told as `workerOutputLost` at its exit (worker-pool.ts, just
 * before `workerExit`), so a stop that reads graceful does not hide its last lines' loss (H540).
 * Kept, not told, when it comes: a worker's notice while it runs on is no exit (retest t57 R2: a
 * forged one read "exited" and, taken once, hid the real one), and the last one before its exit
 * is the one it sent as it exited.
 */
import { isOutputLostPayload, kOutputLostNotice } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';

export function registerOutputLostNotice({ system }: Pick<PrimaryContext, 'system'>): void {
  system.register(kOutputLostNotice, {
    kind: 'notification',
    check: isOutputLostPayload,
    handle: ({ bytes }, record) => {
      record.outputLostBytes = bytes;
    },
  });
}
