import type { HeapCost } from '../../messaging/payload-walk.js';

/**
 * What an entry of the store, or a watch, costs the primary's heap beyond the bytes of its key
 * and value: counted against `maxStoreBytes` with them, so that the budget bounds the heap the
 * store really takes, not only its text (before: a million tiny counters counted 12 MB and took
 * 94 MB; a million watches counted 7 MB of key text and took 232 MB).
 *
 * Measured on Node 20 (x64), heap used after `gc()` (`node --expose-gc`), less the bytes the
 * budget already counts, over 500 000 entries or 1 000 000 watches; each figure is rounded up
 * to the next 16 bytes above the largest measured:
 * - an entry (its `Map` slot, its size record, its key string's header, a value's header):
 *   80 B for a number, 104 B for a short string, 108 B for `{ n: 1 }` (`primary.store.set()`
 *   of keys `'k' + i.toString(36)`);
 * - a watch of a key no other worker watches (its slots in the per-key and per-worker tables,
 *   the per-key set of watchers, the key string's header): 225 B (one worker sending 1 000 000
 *   raw `watch` requests for keys `'w' + i`: 232 MB of heap). A watch of a key others watch too
 *   costs less; the budget counts the worst case;
 * - an ephemeral key's tie to its worker (its slots in the owner-per-key table and in the
 *   worker's set of keys, store-leases.ts), beyond its entry: 88 B just after both tables
 *   doubled (262 145 or 524 289 ties), 42 B just before (500 000), whether one worker or a
 *   thousand own them (`StoreLeases.tie()` of keys made beforehand). Uncounted, a worker's
 *   ephemeral keys took 1.8 times the budget (tester t21: 114 MB of heap for 64 MiB).
 */
export const kStoreEntryOverheadBytes = 112;

/**
 * What a stored value's parts cost the primary's heap beyond the bytes its wire estimate counts
 * (`checkHeldPayload`, counted during the walk that checks the value, no second walk). The
 * estimate counts JSON text, and 50 000 `{}` (150 KB of JSON) took 3.4 MB of heap: a 32 MiB
 * budget let one worker grow the primary's heap to 1 GiB (tester t22, H178).
 *
 * Measured on Node 20 (x64, pointer compression), heap used after `gc()` (`node --expose-gc`)
 * around `JSON.parse()` and `v8.deserialize()` of 200 000 items, per item, whole cost:
 * `{}` in an array 64-67 B, `[]` 40-43 B, `[0]` 68 B, `[{}]` 125 B, `{ a: 0 }` 64 B; an array
 * element that is a small integer 10 B, a double 12-24 B, `null` 13 B; a short string
 * (`i.toString(36)`) 32-39 B; a property of an object of 8 to 64 properties 7-12 B, of an object
 * of 128 or more (V8 keeps it as a dictionary) 48 B, 63-98 B with a unique key each.
 * Each figure below is that less what the wire estimate already counts (8 B a scalar, a
 * string's length and 2), rounded up; a container's covers its slot in its parent.
 */
export const kStoreValueHeapCost: HeapCost = {
  container: 80,
  property: 16,
  dictionaryProperty: 64,
  string: 32,
  scalar: 16,
};
export const kStoreWatchOverheadBytes = 240;
export const kEphemeralTieOverheadBytes = 96;

/** Any character past Latin-1: V8 then keeps the whole string at two bytes a character. */
const kTwoByteCharacter = /[^\x00-\xff]/;

/**
 * The bytes `key`'s characters take in the primary's heap: one each while every character is
 * Latin-1, two each once one is not (V8's two-byte strings). Counting `key.length` alone let
 * 1 024-character keys of 'ж' take twice the budget.
 */
export function keyBytes(key: string): number {
  return kTwoByteCharacter.test(key) ? 2 * key.length : key.length;
}
