/**
 * What a worker's `PrimaryDisconnectedError` says of a message its closed channel kept: who
 * closed the channel when the worker's own code did (hostile t71: a `process.disconnect()` in
 * `_init()` read as if the primary had gone), what the message was (a notice is no request), and
 * whether it was sent.
 */
import { requestWords } from '../messaging/system-answer.js';
import { ownDisconnect } from './own-disconnect.js';

/**
 * `by this worker's own code (process.disconnect()) before clusterkit's own "$ready" notice was
 * sent: it was not sent`, for the context of `PrimaryDisconnectedError`; `isUnsent` false: a
 * request written before the close (`before it replied to "ping"`).
 */
export function notSentWords(type: string, isUnsent: boolean, isNotice = false): string {
  const own = ownDisconnect();
  // The primary's own disconnect of this worker (primary-asked) is no act of the worker's code.
  const by = own === undefined || own === 'primary-asked' ? '' : `by this worker's own code (${own}) `;
  const what = requestWords(type, isNotice);
  if (!isUnsent) return `${by}before it replied to ${what}`;
  return `${by}before ${what} was sent: it was not sent${isNotice ? '' : ' and did not run'}`;
}
