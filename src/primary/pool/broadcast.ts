/**
 * `primary.broadcast()`: one request to every ready worker, one settled result per worker. The
 * payload is checked once, before anything is sent, for all the workers (they share the
 * primary's serialization and `maxMessageBytes`).
 *
 * A broadcast is latency-bound: one lone request per worker each way, nothing to coalesce. So
 * each request is written as soon as it is made (the worker starts on it while the next one is
 * prepared), and the outcomes go straight into the result array, settling one promise when the
 * last one comes: no promise per worker, no job chained on each, no `Promise.all`.
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
  let timeoutMs: number | undefined;
  let signal: AbortSignal | undefined;
  let bytes: number;
  try {
    ({ timeoutMs, signal } = normalizeSendOptions(sendOptions));
    assertUserType(type);
    bytes = checkPayload(payload, options.serialization, options.maxMessageBytes, type);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve) => {
    const results: Array<BroadcastResult<WorkerHandle, unknown>> = [];
    // One count for the loop itself: a request refused at once settles during the loop, and
    // the array must not be handed out before every worker has its place in it.
    let unsettled = 1;
    const settleOne = (): void => {
      if (--unsettled === 0) resolve(results);
    };
    for (const record of pool.records) {
      if (record.state !== 'ready') continue;
      const { endpoint, handle } = record;
      const index = results.length;
      results.push(undefined as unknown as BroadcastResult<WorkerHandle, unknown>);
      unsettled++;
      endpoint.requestInto(
        type,
        payload,
        bytes,
        timeoutMs,
        signal,
        (value) => {
          results[index] = { status: 'fulfilled', worker: handle, value };
          settleOne();
        },
        (reason) => {
          results[index] = { status: 'rejected', worker: handle, reason };
          settleOne();
        },
      );
    }
    settleOne();
  });
}
