/**
 * `primary.broadcast()`: one request to every ready worker, one settled result per worker. The
 * payload is checked once, before anything is sent.
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
    checkPayload(payload, options.serialization, options.maxMessageBytes, type);
    const targets = [...pool.records].filter((record) => record.state === 'ready');
    return Promise.all(
      targets.map((record) =>
        record.endpoint.request(type, payload, timeoutMs, signal).then(
          (value) => ({ status: 'fulfilled' as const, worker: record.handle, value }),
          (reason: Error) => ({ status: 'rejected' as const, worker: record.handle, reason }),
        ),
      ),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}
