/**
 * The clusterkit wire format. Pure: no process or channel knowledge.
 *
 * Every message clusterkit writes is an object carrying the namespace marker `__ck`. User data
 * only ever travels in `payload`, never at the top level, so nothing a user sends can reach
 * Node's reserved `cmd: 'NODE_...'` routing. Messages without the marker belong to someone
 * else (a raw `process.send('ready')`, prom-client's IPC...) and are left alone.
 */
import type { SerializedError } from '../errors.js';

/** Namespace marker key and the protocol version it carries. */
export const kMarker = '__ck';
export const kProtocolVersion = 1;

/** Message types starting with this prefix are clusterkit's own and never reach user handlers. */
export const kSystemPrefix = '$';

/** Longest accepted message type name. */
export const kMaxTypeLength = 256;

interface Base {
  [kMarker]: typeof kProtocolVersion;
}

/** Expects a reply (`res` or `err`) with the same `id`. */
export interface RequestEnvelope extends Base {
  k: 'req';
  id: number;
  type: string;
  payload?: unknown;
}

/** A handler's return value. */
export interface ReplyEnvelope extends Base {
  k: 'res';
  id: number;
  payload?: unknown;
}

/** A handler's failure (or a routing failure such as a missing handler). */
export interface ErrorReplyEnvelope extends Base {
  k: 'err';
  id: number;
  error: SerializedError;
  /** Set when the receiving framework, not the handler, failed: the requester maps it to its own error class. */
  fault?: 'no-handler';
}

/** Fire-and-forget: no reply. */
export interface NotifyEnvelope extends Base {
  k: 'ntf';
  type: string;
  payload?: unknown;
}

/** Several envelopes written to the channel in one IPC message, in order. */
export interface BatchEnvelope extends Base {
  k: 'bat';
  msgs: SingleEnvelope[];
}

export type SingleEnvelope = RequestEnvelope | ReplyEnvelope | ErrorReplyEnvelope | NotifyEnvelope;
export type Envelope = SingleEnvelope | BatchEnvelope;

export function requestEnvelope(id: number, type: string, payload: unknown): RequestEnvelope {
  return { [kMarker]: kProtocolVersion, k: 'req', id, type, payload };
}

export function replyEnvelope(id: number, payload: unknown): ReplyEnvelope {
  return { [kMarker]: kProtocolVersion, k: 'res', id, payload };
}

export function errorReplyEnvelope(id: number, error: SerializedError, fault?: 'no-handler'): ErrorReplyEnvelope {
  const envelope: ErrorReplyEnvelope = { [kMarker]: kProtocolVersion, k: 'err', id, error };
  if (fault) envelope.fault = fault;
  return envelope;
}

export function notifyEnvelope(type: string, payload: unknown): NotifyEnvelope {
  return { [kMarker]: kProtocolVersion, k: 'ntf', type, payload };
}

export function batchEnvelope(msgs: SingleEnvelope[]): BatchEnvelope {
  return { [kMarker]: kProtocolVersion, k: 'bat', msgs };
}

/** True for anything carrying the clusterkit marker, well-formed or not. */
export function isClusterKitMessage(value: unknown): value is { [kMarker]: unknown } {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[kMarker] !== undefined;
}

/**
 * Validates a received single envelope. Returns `undefined` for anything malformed, so the
 * caller can drop and count it: a bad message must never throw inside protocol routing.
 */
export function readSingleEnvelope(value: unknown): SingleEnvelope | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message[kMarker] !== kProtocolVersion) return undefined;
  switch (message.k) {
    case 'req':
      return isMessageId(message.id) && isTypeName(message.type) ? (message as unknown as RequestEnvelope) : undefined;
    case 'ntf':
      return isTypeName(message.type) ? (message as unknown as NotifyEnvelope) : undefined;
    case 'res':
      return isMessageId(message.id) ? (message as unknown as ReplyEnvelope) : undefined;
    case 'err':
      return isMessageId(message.id) && isSerializedError(message.error)
        ? (message as unknown as ErrorReplyEnvelope)
        : undefined;
    default:
      return undefined;
  }
}

/** The batch's members when `value` is a well-formed batch, else `undefined`. */
export function readBatch(value: unknown): unknown[] | undefined {
  const message = value as Record<string, unknown>;
  return message[kMarker] === kProtocolVersion && message.k === 'bat' && Array.isArray(message.msgs)
    ? message.msgs
    : undefined;
}

/** Why a user-chosen message type is unacceptable, or `undefined` when it is fine. */
export function checkUserType(type: unknown): string | undefined {
  if (typeof type !== 'string' || type.length === 0) return 'must be a non-empty string';
  if (type.length > kMaxTypeLength) return `must be at most ${kMaxTypeLength} characters`;
  if (type.startsWith(kSystemPrefix)) return `must not start with "${kSystemPrefix}" (reserved for clusterkit)`;
  return undefined;
}

export function isSystemType(type: string): boolean {
  return type.startsWith(kSystemPrefix);
}

function isMessageId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isTypeName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= kMaxTypeLength;
}

function isSerializedError(value: unknown): value is SerializedError {
  if (typeof value !== 'object' || value === null) return false;
  const error = value as Record<string, unknown>;
  return typeof error.name === 'string' && typeof error.message === 'string';
}
