/**
 * Long strings out of JSON: the encoding of the bulk channel (bulk-channel.ts). Pure: no
 * process or socket knowledge.
 *
 * With `json` serialization, Node's IPC writes every message through `JSON.stringify`, which on
 * Node 20 costs about 2 ns a character for a long string (it checks each one for escaping), and
 * reads it back through a UTF-8 decoder and `JSON.parse`: about 27 µs for a 10 KB string, each
 * way. Written as raw UTF-8 on a pipe of its own, the same string costs under 3 µs. So a record
 * whose payload is mostly long strings is sent with each such string replaced by a placeholder,
 * and the strings' bytes go on the bulk pipe, in order. What the receiver rebuilds is exactly
 * what `JSON.parse(JSON.stringify(payload))` gives: the rest of the payload still goes through
 * `JSON.stringify` (with `toJSON`, dropped `undefined` fields and all), only the long strings
 * skip it.
 *
 * A bulk record's payload field is `[text, count]`: `text` is the payload as JSON with
 * placeholders (or `null` when the payload is one long string), `count` how many strings it
 * takes from the frame's bulk bytes. A placeholder is a string `"\u0000<index>"`; a string of
 * the payload that starts with `\u0000` is written with one more `\u0000` in front, so no
 * value of the user's can pass for a placeholder.
 */

/** Strings shorter than this stay in the JSON: below it the placeholder costs more than it saves. */
export const kBulkMinChars = 1024;
/** A record's payload estimate (bytes) from which it may go bulk. */
export const kBulkMinBytes = kBulkMinChars;
/** Values the decision looks at, at most: a payload of many small values stays plain JSON. */
const kScanBudget = 64;
const kEscape = '\u0000';

/**
 * Every frame's bytes on the bulk pipe end with these 8 bytes: `CKB1` and the frame's number
 * (u32, big-endian, from 0, wrapping). Bytes that something else wrote to the pipe (a child
 * process given its descriptor) shift them out of place, so the receiver finds them wrong
 * before it delivers anything made of the shifted bytes, instead of handing on corrupted strings.
 */
export const kBulkTrailerBytes = 8;
const kTrailerMagic = 0x434b4231; // "CKB1"

/** Writes the trailer of frame number `sequence` into the last 8 bytes of `bytes`. */
export function writeBulkTrailer(bytes: Buffer, sequence: number): void {
  bytes.writeUInt32BE(kTrailerMagic, bytes.length - kBulkTrailerBytes);
  bytes.writeUInt32BE(sequence >>> 0, bytes.length - 4);
}

/** Whether `bytes` end with the trailer of frame number `sequence`. */
export function hasBulkTrailer(bytes: Buffer, sequence: number): boolean {
  return bytes.length >= kBulkTrailerBytes && bytes.readUInt32BE(bytes.length - kBulkTrailerBytes) === kTrailerMagic && bytes.readUInt32BE(bytes.length - 4) === sequence >>> 0;
}

/** A record's payload, encoded for the bulk channel. */
export interface BulkPayload {
  /** The payload field of the record: `[text, count]`. */
  field: [string | null, number];
  /** The long strings, in placeholder order. */
  strings: string[];
}

/**
 * The payload with its long strings taken out, or `undefined` when it is not worth it: less
 * than half of its estimated `bytes` is in long strings, or one of them is not well-formed
 * UTF-16 (a lone surrogate, which UTF-8 cannot carry and JSON can).
 * @throws what `JSON.stringify` throws (a throwing getter or `toJSON`): the caller sends the
 *   record as plain JSON, which throws it again where such failures are handled.
 */
export function encodeBulk(payload: unknown, bytes: number): BulkPayload | undefined {
  if (typeof payload === 'string') {
    return payload.length >= kBulkMinChars && isWellFormed(payload) ? { field: [null, 1], strings: [payload] } : undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const scan = { chars: 0, budget: kScanBudget, isWellFormed: true };
  scanLongStrings(payload, scan);
  if (!scan.isWellFormed || scan.chars * 2 < bytes || scan.chars === 0) return undefined;
  const strings: string[] = [];
  const text = JSON.stringify(payload, (_key, value: unknown) => {
    // A String object is turned into its string after the replacer (ECMA-262 SerializeJSONProperty):
    // do it here, so that its text is escaped and placed as every other string's.
    if (typeof value === 'object' && value !== null && isStringObject(value)) value = String(value);
    if (typeof value !== 'string') return value;
    if (value.length >= kBulkMinChars && isWellFormed(value)) return kEscape + String(strings.push(value) - 1);
    return value.charCodeAt(0) === 0 ? kEscape + value : value;
  });
  // A toJSON() (or getter) that left the long strings out: nothing to carry, plain JSON it is
  // (a bulk record of no strings is one no encoder writes, and the receiver kills its writer).
  if (strings.length === 0) return undefined;
  return { field: [text, strings.length], strings };
}

/**
 * Adds up the long strings reachable through plain objects and arrays, looking at no more than
 * `scan.budget` values: enough for the shapes of large messages (a text, `{ id, body }`, a few
 * documents), cheap for everything else.
 */
function scanLongStrings(value: object, scan: { chars: number; budget: number; isWellFormed: boolean }): void {
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null && !Array.isArray(value)) return;
  for (const key in value) {
    if (--scan.budget < 0) return;
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'string') {
      if (item.length < kBulkMinChars) continue;
      scan.chars += item.length;
      if (!isWellFormed(item)) scan.isWellFormed = false;
    } else if (typeof item === 'object' && item !== null) scanLongStrings(item, scan);
  }
}

/**
 * No lone surrogate (ES2024 `isWellFormed`, in Node since 20): UTF-8 cannot carry one. Where the
 * runtime lacks it, no string goes bulk.
 */
const wellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
function isWellFormed(text: string): boolean {
  return wellFormed !== undefined && wellFormed.call(text);
}

/** Whether `value` has a [[StringData]] slot, as `new String()` (from any realm) has. */
function isStringObject(value: object): boolean {
  try {
    String.prototype.valueOf.call(value);
    return true;
  } catch {
    return false;
  }
}

/** Why a bulk record cannot be decoded; the peer broke the protocol. */
export class BulkDecodeError extends Error {}

/**
 * Rebuilds a bulk record's payload from its field and the frame's strings, starting at
 * `strings[first]`. @throws BulkDecodeError for a field that no encoder writes.
 */
export function decodeBulk(field: unknown, strings: readonly string[], first: number): unknown {
  if (!Array.isArray(field) || field.length !== 2) throw new BulkDecodeError('a bulk record\'s payload is not [text, count]');
  const [text, count] = field as [unknown, unknown];
  if (text === null) {
    if (count !== 1) throw new BulkDecodeError('a bulk string record takes one string');
    return strings[first];
  }
  if (typeof text !== 'string' || !Number.isSafeInteger(count) || (count as number) < 1) throw new BulkDecodeError('a bulk record\'s payload is not [text, count]');
  let taken = 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_key, value: unknown) => {
      if (typeof value !== 'string' || value.charCodeAt(0) !== 0) return value;
      if (value.charCodeAt(1) === 0) return value.slice(1);
      const index = Number(value.slice(1));
      // Placeholders come in the order they were given (JSON.parse revives values in the order
      // JSON.stringify wrote them): each names the next string, once.
      if (index !== taken || index >= (count as number)) throw new BulkDecodeError(`a placeholder ${JSON.stringify(value.slice(0, 24))} names no string, or not the next one`);
      taken++;
      return strings[first + index];
    });
  } catch (error) {
    // Not the parser's message: it quotes the text, which comes from the peer.
    throw error instanceof BulkDecodeError ? error : new BulkDecodeError('a bulk record\'s text is not JSON');
  }
  if (taken !== count) throw new BulkDecodeError(`a bulk record announced ${String(count)} strings and placed ${taken}`);
  return parsed;
}
