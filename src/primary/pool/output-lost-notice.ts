/**
 * `$outputLost`: a worker exits with output it wrote (stdout, stderr) still held in its process,
 * which its `process.exit()` drops: told as `workerOutputLost`, once per worker, so a stop that
 * reads graceful does not hide its last lines' loss (H540).
 */
import { isOutputLostPayload, kOutputLostNotice } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';

export function registerOutputLostNotice({ system, emit }: Pick<PrimaryContext, 'system' | 'emit'>): void {
  system.register(kOutputLostNotice, {
    kind: 'notification',
    check: isOutputLostPayload,
    // Once: the process exits right after it.
    when: (record) => record.outputLostBytes === undefined,
    handle: ({ bytes }, record) => {
      record.outputLostBytes = bytes;
      emit('workerOutputLost', { worker: record.handle, bytes });
    },
  });
}
