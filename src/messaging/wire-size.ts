/**
 * The size of a payload for `maxMessageBytes`, from the estimate payload-check.ts's walk makes.
 *
 * The estimate counts one byte per string character and a few per value. What goes on the
 * wire can be more: JSON writes a control character as `\u00XX` (6 bytes), a quote
 * or backslash as 2, a non-ASCII character as 2 to 3 bytes of UTF-8, a number as up to 24
 * characters; `advanced` writes a string as UTF-16 (2 bytes a character) when it is not Latin-1.
 * That is at most 6 times the estimate with JSON, 2 times with `advanced`. So the estimate
 * decides alone only when it is clear: a payload whose estimate times that factor fits the
 * limit is accepted (every message of ordinary size: nothing more is done), one whose certain
 * minimum exceeds the limit is refused; in between, the payload is serialized once
 * (`JSON.stringify` and `Buffer.byteLength`, or `v8.serialize`; a string alone by a scan for
 * the characters JSON escapes) and its exact size decides.
 * `maxMessageBytes` therefore never under-counts what goes on the wire.
 */
import { MessageTooLargeError } from '../errors.js';
import { loadV8 } from '../builtins.js';
import type { Serialization } from '../types.js';

// Rough per-value overheads of the serialized form, as the walk estimates them.
export const kScalarBytes = 8;
export const kPunctuationBytes = 2;
/**
 * Most bytes on the wire per estimated byte: JSON writes a character as up to 6 bytes
 * (`\u0001`) and a number (8 estimated) as up to 24 characters; V8's serializer writes a
 * character as up to 2.
 */
export const kJsonWireFactor = 6;
export const kAdvancedWireFactor = 2;
/**
 * The fewest bytes a scalar (8 estimated) takes on the wire: one (a digit, V8's `true`). Every
 * other part is estimated at no more than it takes (a string, one byte a character), so the
 * estimate minus 7 per scalar is a size the payload certainly reaches.
 */
const kScalarSurplusBytes = kScalarBytes - 1;

/**
 * The size check of a payload whose estimate does not settle it (see the top of this file):
 * refused at once when its certain minimum is over the limit, else measured exactly.
 */
export function checkWireSize(payload: unknown, serialization: Serialization, limitBytes: number, type: string, bytes: number, scalars: number): number {
  const minimum = bytes - scalars * kScalarSurplusBytes;
  if (minimum > limitBytes) throw new MessageTooLargeError(type, bytes, limitBytes);
  const exact = wireBytes(payload, serialization) ?? bytes * (serialization === 'json' ? kJsonWireFactor : kAdvancedWireFactor);
  if (exact > limitBytes) throw new MessageTooLargeError(type, exact, limitBytes);
  return exact;
}

/** Characters JSON escapes: quotes, backslashes, control characters, lone surrogates. */
const kJsonEscaped = /[^\u0020-\u0021\u0023-\u005b\u005d-\ud7ff\ue000-\uffff]/;
/** Characters that make V8 write a string as UTF-16 rather than Latin-1. */
const kTwoByte = /[^\u0000-\u00ff]/;
/** V8's serializer's header and a string's tag and length. */
const kAdvancedStringHeaderBytes = 8;

/**
 * The last string measured, and its size: a string is immutable, and the same one is often
 * checked again (a broadcast checks its payload once, then once per worker; a retry). Only
 * strings close to the limit get here, so at most one such string is kept alive.
 */
const lastString = { text: '', json: 0, advanced: 0 };

/** The payload's exact serialized size, or `undefined` when serializing it throws. */
function wireBytes(payload: unknown, serialization: Serialization): number | undefined {
  // A string alone (a large text, base64): measured without serializing it, three times faster.
  if (typeof payload === 'string') {
    if (payload !== lastString.text) Object.assign(lastString, { text: payload, json: 0, advanced: 0 });
    if (lastString[serialization] === 0) lastString[serialization] = stringBytes(payload, serialization);
    return lastString[serialization];
  }
  try {
    if (serialization === 'advanced') return loadV8().serialize(payload).length;
    const text = JSON.stringify(payload);
    return text === undefined ? kScalarBytes : Buffer.byteLength(text);
  } catch {
    return undefined;
  }
}

function stringBytes(text: string, serialization: Serialization): number {
  if (serialization === 'advanced') return kAdvancedStringHeaderBytes + text.length * (kTwoByte.test(text) ? 2 : 1);
  return kJsonEscaped.test(text) ? Buffer.byteLength(JSON.stringify(text)) : Buffer.byteLength(text) + kPunctuationBytes;
}

