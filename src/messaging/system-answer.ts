/**
 * The message of a `RemoteError` that answers one of clusterkit's own requests (a `sendTo()`'s
 * relay, a store call): what the peer answered, in the terms the caller used. The default
 * (`Handler for "$relay" in the primary failed: ...`) blamed the primary for what it only
 * passed on, and named a type the docs reserve for clusterkit (newcomer t61).
 */
import { MessageTooLargeError, RemoteError, type SerializedError } from '../errors.js';
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

/** Deep enough for any chain clusterkit builds (a relay adds two links); a longer one is left as it is. */
const kMaxChainDepth = 16;

/**
 * `error` with each `RemoteError` in its cause chain that names one of clusterkit's own request
 * types (`$relay`, `$store`) renamed `messageType`: the caller's call, as a logger that
 * serialises the chain's fields shows it (retest t61 L1: every sendTo() failure's cause had
 * `messageType: "$relay"`). Messages stay as they are: they already speak the caller's terms.
 * `messageType`: the user's type for sendTo(), `store.set('key')` for a store call.
 */
export function namedForCaller(error: unknown, messageType: string, depth = 0): unknown {
  if (!(error instanceof Error) || depth >= kMaxChainDepth) return error;
  const cause = namedForCaller(error.cause, messageType, depth + 1);
  if (error instanceof RemoteError && isSystemType(error.messageType)) {
    const remote = { name: error.remoteName, message: error.remoteMessage, code: error.remoteCode, stack: error.remoteStack, data: error.data };
    const renamed = new RemoteError(messageType, error.peer, remote, error.message, { cause });
    // The stack of the place the reply arrived, not of this copy (the message is the same).
    if (error.stack !== undefined) renamed.stack = error.stack;
    return renamed;
  }
  // A sendTo() payload over the limit was measured inside the relay's envelope: named by the user's type (hostile t68 F5: `"$relay"`).
  if (error instanceof MessageTooLargeError && isSystemType(error.messageType)) {
    const renamed = new MessageTooLargeError(messageType, error.estimatedBytes, error.limitBytes, { isReply: error.isReply, ...error.limitOwner(), ...(error.why === undefined ? {} : { why: error.why }), ...(cause === undefined ? {} : { cause }) });
    if (error.stack !== undefined) renamed.stack = error.stack.replace(`"${error.messageType}"`, `"${messageType}"`);
    return renamed;
  }
  // Error's own `cause` is a writable data property: the class, stack and fields stay the caller's.
  if (cause !== error.cause) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return error;
}

/**
 * How a message names a request of `type`: `"ping"` for a user's; `the sendTo()`, `the store call`
 * for clusterkit's own that stand for one (retest t64: `before "$store" was sent`); `isNotice`: a
 * notification (`clusterkit's own "$ready" notice`, hostile t71: it was called a request).
 */
export function requestWords(type: string, isNotice = false): string {
  if (type === kRelayRequest) return 'the sendTo()';
  if (type === kStoreRequest) return 'the store call';
  return isSystemType(type) ? `clusterkit's own "${type}" ${isNotice ? 'notice' : 'request'}` : `"${type}"`;
}
