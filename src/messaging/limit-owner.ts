/**
 * Whose `maxMessageBytes` a payload in a worker was over (retest t68b, hostile t69): a worker
 * sends the primary no more than the primary reads, so its limit is the lower of its own option
 * and the primary's, and the error says which it met, and when the payload is over both.
 */
import type { LimitOwner } from '../errors.js';

/**
 * `primaryMaxBytes`: the primary's `maxMessageBytes` (a worker's), or undefined (the primary,
 * whose own option is its only limit). `limitBytes`: the limit met; `estimatedBytes`: the payload's size.
 */
export function limitOwner(estimatedBytes: number, limitBytes: number, primaryMaxBytes: number | undefined): LimitOwner {
  if (primaryMaxBytes === undefined) return {};
  if (primaryMaxBytes <= limitBytes) return { isPrimaryLimit: true };
  return { isWorkerLimit: true, ...(estimatedBytes > primaryMaxBytes ? { primaryLimitBytes: primaryMaxBytes } : {}) };
}
