/**
 * `primary.broadcast()`: one request to every ready worker, one settled result per worker. The
 * payload is checked once, before anything is sent, for all the workers (they share the
 * primary's serialization and `maxMessageBytes`).
 */
import { assertUserType } from '../../messaging/envelope.js';
import { checkPayload } from '../../messaging/payload-check.js';
import { normalizeSendOptions } from '../../messaging/send-options.js';
import type { BroadcastResult, SendOptions } from '../../types.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerHandle } from './worker-handle.js';

/** Never throws: bad input rejects. */
export function broadcast(
  { options, pool }: Pick<PrimaryContext, 'options' | 'pool'>,
  type: string,
  payload: unknown,
  sendOptions: SendOptions | undefined,
): Promise<Array<BroadcastResult<WorkerHandle, unknown>>> {
  try {
    const { timeoutMs, signal } = normalizeSendOptions(sendOptions);
    assertUserType(type);
    const bytes = checkPayload(payload, options.serialization, options.maxMessageBytes, type);
    const replies: Array<Promise<BroadcastResult<WorkerHandle, unknown>>> = [];
    for (const record of pool.records) {
      if (record.state !== 'ready') continue;
      const { endpoint, handle } = record;
      replies.push(
        endpoint.requestChecked(type, payload, bytes, timeoutMs, signal).then(
          (value) => ({ status: 'fulfilled' as const, worker: handle, value }),
          (reason: Error) => ({ status: 'rejected' as const, worker: handle, reason }),
        ),
      );
      // Nothing else goes to this worker in this call: it starts on its request while the next
      // worker's is prepared, as with one process.send() after another.
      endpoint.flushNow();
    }
    return Promise.all(replies);
  } catch (error) {
    return Promise.reject(error);
  }
}
