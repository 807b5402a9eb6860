/**
 * The message of a `RemoteError` that answers one of clusterkit's own requests (a `sendTo()`'s
 * relay, a store call): what the peer answered, in the terms the caller used. The default
 * (`Handler for "$relay" in the primary failed: ...`) blamed the primary for what it only
 * passed on, and named a type the docs reserve for clusterkit (newcomer t61).
 */
import type { SerializedError } from '../errors.js';
import { capitalize } from '../capitalize.js';
import { isSystemType } from './envelope.js';
import { kRelayedRequest, kRelayRequest, kStoreRequest } from './system-types.js';

const kWords: Readonly<Record<string, string>> = {
  [kRelayRequest]: 'a sendTo() it relays',
  [kRelayedRequest]: 'a message relayed from another worker (sendTo())',
  [kStoreRequest]: 'a store call',
};

/** The message for `type`'s error reply from `peer`; undefined for a user's type, which keeps the default. */
export function systemAnswerMessage(type: string, peer: string, remote: SerializedError): string | undefined {
  if (!isSystemType(type)) return undefined;
  const what = kWords[type] ?? "one of clusterkit's own requests";
  return `${capitalize(peer)} answered ${what} with ${remote.name}: ${remote.message}`;
}
