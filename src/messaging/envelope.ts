/**
 * The clusterkit wire format. Pure: no process or channel knowledge.
 *
 * Every IPC message clusterkit writes is a **frame**: `{ __ck: 1, m: [...] }`, where `m` holds
 * one or more **records** of four fields each, flat: `kind, id, typeOrFault, payload`. One
 * frame per write, however many records it carries: flat arrays cost far less to build,
 * serialize, parse and collect than one object per message, which is most of what a small
 * message costs. (A "slot" is a position in the worker pool, never a part of a record.)
 *
 * | kind | record                        | `typeOrFault`          | `payload`              |
 * | ---- | ----------------------------- | ---------------------- | ---------------------- |
 * | 0    | request (expects a reply)     | message type           | payload                |
 * | 1    | reply                         | 0                      | the handler's result   |
 * | 2    | error reply                   | fault (0, or 1: no handler) | serialized error  |
 * | 3    | notification (no reply)       | message type           | payload                |
 * | 8    | reply ahead: a large reply to request `id` follows | 0 | null               |
 *
 * `kind | 16` marks a bulk record (bulk-codec.ts): its payload's long strings travel on the bulk
 * pipe, and the frame then carries `b`, their lengths in bytes, in order:
 * `{ __ck: 1, m: [...], b: [10240, ...] }`. The receiver rebuilds the payload and clears the flag
 * before routing (bulk-reader.ts), so a frame without `b` never has a kind above 15.
 *
 * `kind | 4` marks an `undefined` payload (JSON would turn it into `null` inside an array).
 * A reply of `kReplyAheadBytes` or more is preceded by a reply-ahead record: its first bytes
 * reach the requester at once, so a requester busy when the deadline passes knows the reply was
 * already on its way (pending.ts) and waits for the rest instead of timing it out.
 * User data only ever travels in the payload field, never at the top level, so nothing a user
 * sends can reach Node's reserved `cmd: 'NODE_...'` routing. IPC messages without the marker
 * belong to someone else (a raw `process.send('ready')`, prom-client...) and are left alone.
 */
import { describeValue, InvalidArgumentError, type SerializedError } from '../errors.js';

/** Namespace marker key and the protocol version it carries. */
export const kMarker = '__ck';
export const kProtocolVersion = 1;

export const kRequest = 0;
export const kReply = 1;
export const kErrorReply = 2;
export const kNotify = 3;
export const kReplyAhead = 8;
/** Flag on a kind: the payload is `undefined`. */
export const kNoPayload = 4;
/** Flag on a kind: the payload's long strings are on the bulk pipe (bulk-codec.ts). */
export const kBulk = 16;
/** Slots per record. */
export const kRecordSize = 4;
/** Fault codes of error replies. */
export const kFaultNone = 0;
export const kFaultNoHandler = 1;
/** The receiver is shutting down and took no new message (tester t51): the requester gets a `ShutdownInProgressError`, not a `RemoteError`. */
export const kFaultShutdown = 2;

/** Replies this large (estimated bytes) are announced by a reply-ahead record: they take many reads. */
export const kReplyAheadBytes = 64 * 1024;

/** Message types starting with this prefix are clusterkit's own and never reach user handlers. */
export const kSystemPrefix = '$';

/** Longest accepted message type name. */
export const kMaxTypeLength = 256;

/** One IPC message: a frame of flat records. */
export interface Frame {
  [kMarker]: typeof kProtocolVersion;
  m: unknown[];
}

export function frame(records: unknown[]): Frame {
  return { [kMarker]: kProtocolVersion, m: records };
}

/** Appends one record to `records`. */
export function pushRecord(records: unknown[], kind: number, id: number, typeOrFault: string | number, payload: unknown): void {
  if (payload === undefined) records.push(kind | kNoPayload, id, typeOrFault, null);
  else records.push(kind, id, typeOrFault, payload);
}

/** True for anything carrying the clusterkit marker, well-formed or not. */
export function isClusterKitMessage(value: unknown): value is { [kMarker]: unknown } {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[kMarker] !== undefined;
}

/** The records of a well-formed frame, or `undefined` for anything else. */
export function readFrame(value: unknown): unknown[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const records = message[kMarker] === kProtocolVersion ? message.m : undefined;
  return Array.isArray(records) && records.length > 0 && records.length % kRecordSize === 0 ? records : undefined;
}

/** Why a user-chosen message type is unacceptable, or `undefined` when it is fine. */
export function checkUserType(type: unknown): string | undefined {
  if (typeof type !== 'string' || type.length === 0) return 'must be a non-empty string';
  if (type.length > kMaxTypeLength) return `must be at most ${kMaxTypeLength} characters`;
  if (type.startsWith(kSystemPrefix)) return `must not start with "${kSystemPrefix}" (reserved for clusterkit)`;
  return undefined;
}

/**
 * Throws `InvalidArgumentError` for an unacceptable user message type.
 * @param what how the message names the type, `message type` by default.
 */
export function assertUserType(type: unknown, what = 'message type'): asserts type is string {
  // Left out (`send(worker)`): said missing, with what to pass, not "The message type undefined" (retest t89, H769).
  if (type === undefined) throw new InvalidArgumentError(`The ${what} is missing: pass it, a non-empty string naming the handler (\`'greet'\` runs \`_onMessage_greet\`).`);
  const problem = checkUserType(type);
  if (problem) throw new InvalidArgumentError(`The ${what} ${describeValue(type)} ${problem}.`);
}

export function isSystemType(type: string): boolean {
  return type.startsWith(kSystemPrefix);
}

/** A record's id field: a safe positive integer. */
export function isMessageId(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && Number.isSafeInteger(value);
}

/** A record's message type (requests, notifications): a non-empty string of bounded length. */
export function isTypeName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= kMaxTypeLength;
}

export function isSerializedError(value: unknown): value is SerializedError {
  if (typeof value !== 'object' || value === null) return false;
  const error = value as Record<string, unknown>;
  return typeof error.name === 'string' && typeof error.message === 'string';
}
