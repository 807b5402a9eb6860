/**
 * The bulk pipe's encoding (src/messaging/bulk-codec.ts) and reader (bulk-reader.ts), without
 * processes: random payloads rebuilt from the JSON text and the strings' UTF-8 bytes must equal
 * what JSON delivers, and the reader must give frames back in order whatever the pipes' timing.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeBulk, encodeBulk, kBulkMinChars, kBulkTrailerBytes, writeBulkTrailer } from '../../src/messaging/bulk-codec.js';
import { BulkReader } from '../../src/messaging/bulk-reader.js';

/** A small deterministic generator (mulberry32): the same cases every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kAlphabet = ['a', 'é', '€', '😀', '\u0000', '"', '\\', '\n', '\u2028', '0'];

function randomString(next: () => number): string {
  const long = next() < 0.4;
  const length = long ? kBulkMinChars + Math.floor(next() * 3000) : Math.floor(next() * 8);
  let text = next() < 0.2 ? '\u0000' : '';
  const char = kAlphabet[Math.floor(next() * kAlphabet.length)]!;
  text += char.repeat(Math.ceil(length / char.length));
  if (next() < 0.1) text += '\u0000' + String(Math.floor(next() * 5));
  return text;
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.4) return randomString(next);
  if (pick < 0.5) return Math.floor(next() * 1000);
  if (pick < 0.55) return null;
  if (pick < 0.75) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(next() * 4); i++) object[next() < 0.2 ? String(i) : randomString(next).slice(0, 6)] = randomValue(next, depth + 1);
  return object;
}

/** What the receiver rebuilds from an encoding: the strings cross as UTF-8 bytes. */
function rebuild(field: [string | null, number], strings: string[]): unknown {
  const crossed = strings.map((text) => Buffer.from(text, 'utf8').toString('utf8'));
  return decodeBulk(JSON.parse(JSON.stringify(field)), crossed, 0);
}

describe('bulk codec', () => {
  it('rebuilds 2 000 random payloads exactly as JSON delivers them', () => {
    const next = random(42);
    let encoded = 0;
    for (let i = 0; i < 2_000; i++) {
      const payload = randomValue(next, 0);
      const bulk = encodeBulk(payload, JSON.stringify(payload).length);
      if (bulk === undefined) continue;
      encoded++;
      expect(rebuild(bulk.field, bulk.strings)).toEqual(JSON.parse(JSON.stringify(payload)));
    }
    expect(encoded).toBeGreaterThan(300); // the case under test was exercised
  });

  it('leaves a lone surrogate, short strings and many small values to plain JSON', () => {
    expect(encodeBulk(`${'a'.repeat(2_000)}\ud800`, 2_002)).toBeUndefined();
    expect(encodeBulk('a'.repeat(kBulkMinChars - 1), kBulkMinChars + 1)).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(20)]));
    expect(encodeBulk({ ...many, text: 'x'.repeat(1_500) }, 6_000)).toBeUndefined();
  });

  it('refuses fields no encoder writes', () => {
    expect(() => decodeBulk('text', ['a'], 0)).toThrow(/not \[text, count\]/);
    expect(() => decodeBulk([null, 2], ['a', 'b'], 0)).toThrow(/takes one string/);
    expect(() => decodeBulk(['"\\u00003"', 1], ['a'], 0)).toThrow(/names no string/);
    expect(() => decodeBulk(['["\\u00000","\\u00000"]', 2], ['a', 'b'], 0)).toThrow(/names no string, or not the next one/);
    expect(() => decodeBulk(['{"a":', 1], ['a'], 0)).toThrow(/is not JSON$/);
    expect(() => decodeBulk(['{"a":"x"}', 1], ['a'], 0)).toThrow(/announced 1 strings and placed 0/);
  });
});

/** `data` followed by the trailer of frame number `sequence`, as a channel writes it. */
function withTrailer(data: Buffer, sequence: number): Buffer {
  const out = Buffer.alloc(data.length + kBulkTrailerBytes);
  data.copy(out);
  writeBulkTrailer(out, sequence);
  return out;
}

describe('bulk reader', () => {
  it('[H85] bytes something else wrote to the bulk pipe, before, inside or between frames: corrupt, and nothing made of them is delivered', () => {
    const text = 'z'.repeat(20_000);
    const data = Buffer.from(text);
    const cases: Array<[string, Buffer]> = [
      ['before', Buffer.concat([Buffer.from('garbage'), withTrailer(data, 0), withTrailer(data, 1)])],
      ['inside', Buffer.concat([data.subarray(0, 4096), Buffer.from('garbage'), data.subarray(4096), withTrailer(Buffer.alloc(0), 0), withTrailer(data, 1)])],
      ['between', Buffer.concat([withTrailer(data, 0), Buffer.from('garbage'), withTrailer(data, 1)])],
    ];
    for (const [where, stream] of cases) {
      const delivered: unknown[] = [];
      const faults: string[] = [];
      const reader = new BulkReader((message) => delivered.push((message as { m: unknown[] }).m[3]), () => faults.push('malformed'), (reason) => faults.push(reason), 1 << 20);
      reader.enable();
      for (let i = 0; i < 2; i++) reader.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [data.length] });
      reader.push(stream);
      // After the fault, plain frames are not delivered either: they would come out of order.
      reader.receive({ __ck: 1, m: [3, 0, 'type', 'after'] });
      expect({ where, delivered: delivered.filter((value) => value !== text), faults }).toEqual({ where, delivered: [], faults: [expect.stringMatching(/^bytes on the bulk pipe were out of place/)] });
      if (where === 'between') expect(delivered).toEqual([text]);
      else expect(delivered).toEqual([]);
    }
  });

  it('[H85] a toJSON() that leaves the long strings out: plain JSON, never a bulk record of no strings', () => {
    const payload = { blob: 'b'.repeat(20_000), meta: Array.from({ length: 12 }, () => 'm'.repeat(1_000)), toJSON: () => ({ size: 20_000, meta: Array.from({ length: 12 }, () => 'm'.repeat(1_000)) }) };
    expect(encodeBulk(payload, 12_100)).toBeUndefined();
    const nested = { items: [{ body: 'x'.repeat(50_000), toJSON: () => 'short' }] };
    expect(encodeBulk(nested, 50_030)).toBeUndefined();
  });

  it('[H82] stops at 65 537 frames waiting for bytes that never come, and at the IPC bytes read while the oldest waits', () => {
    const faults: string[] = [];
    let read = 0;
    const reader = new BulkReader(() => {}, () => faults.push('malformed'), (reason) => faults.push(reason), 1 << 20, () => read);
    reader.enable();
    reader.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [5] });
    for (let i = 0; i < 65_536 && faults.length === 0; i++) reader.receive({ __ck: 1, m: [3, 0, 'type', i] });
    expect(faults).toEqual(['65537 frames waited for bulk bytes that did not come']);

    // Bytes: counted from the oldest frame still waiting, not from when waiting began, so that a
    // steady pipeline (some frame always waiting for a moment) is never taken for an attack.
    const bytes: string[] = [];
    const steady = new BulkReader(() => {}, () => bytes.push('malformed'), (reason) => bytes.push(reason), 1 << 20, () => read);
    steady.enable();
    for (let i = 0; i < 1_000; i++) {
      read += 1 << 20; // a megabyte of IPC per frame: a gigabyte in all
      steady.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [1] });
      // The previous frame's byte comes after this frame: one frame always waits.
      if (i > 0) steady.push(withTrailer(Buffer.from('x'), i - 1));
    }
    expect(bytes).toEqual([]);
    expect(steady.heldFrames).toBe(1);
    read = 0;
    const stuck = new BulkReader(() => {}, () => bytes.push('malformed'), (reason) => bytes.push(reason), 1 << 20, () => read);
    stuck.enable();
    stuck.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [1] });
    for (let i = 0; i < 100 && bytes.length === 0; i++) {
      read += 1 << 20;
      stuck.receive({ __ck: 1, m: [3, 0, 'type', i] });
    }
    expect(bytes).toEqual([expect.stringMatching(/^\d+ bytes of messages waited for bulk bytes that did not come$/)]);
  });

  it('[H499] at the pipe\'s end, frames waiting for bytes are dropped and the plain frames behind them delivered in order; later bulk frames are dropped', () => {
    const delivered: unknown[] = [];
    const faults: string[] = [];
    const reader = new BulkReader((message) => delivered.push((message as { m: unknown[] }).m[3]), () => faults.push('malformed'), (reason) => faults.push(reason), 1 << 20);
    reader.enable();
    reader.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [100] });
    reader.push(Buffer.from('x'.repeat(10))); // part of its bytes: the rest never comes
    reader.receive({ __ck: 1, m: [3, 0, 'type', 'plain 1'] });
    reader.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [5] });
    reader.receive({ __ck: 1, m: [3, 0, 'type', 'plain 2'] });
    expect({ delivered, held: reader.heldFrames }).toEqual({ delivered: [], held: 4 });
    expect(reader.end()).toBe(2);
    expect({ delivered, held: reader.heldFrames, faults }).toEqual({ delivered: ['plain 1', 'plain 2'], held: 0, faults: [] });
    reader.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [5] });
    reader.receive({ __ck: 1, m: [3, 0, 'type', 'plain 3'] });
    expect({ delivered, held: reader.heldFrames, again: reader.end() }).toEqual({ delivered: ['plain 1', 'plain 2', 'plain 3'], held: 0, again: 0 });

    // Bytes read whole before their frame: the frame still meets them after the end, and one
    // short of its bytes is dropped when it comes.
    const text = 'z'.repeat(20_000);
    const early: unknown[] = [];
    const ahead = new BulkReader((message) => early.push((message as { m: unknown[] }).m[3]), () => faults.push('malformed'), (reason) => faults.push(reason), 1 << 20);
    ahead.enable();
    ahead.push(withTrailer(Buffer.from(text), 0));
    expect(ahead.end()).toBe(0);
    ahead.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [text.length] });
    ahead.receive({ __ck: 1, m: [3 | 16, 0, 'type', [null, 1]], b: [text.length] });
    ahead.receive({ __ck: 1, m: [3, 0, 'type', 'plain'] });
    expect({ early, held: ahead.heldFrames, faults }).toEqual({ early: [text, 'plain'], held: 0, faults: [] });
  });

  it('delivers frames in order whether the bytes come before or after them, in any chunks', () => {
    const next = random(7);
    for (let round = 0; round < 50; round++) {
      const delivered: unknown[] = [];
      const reader = new BulkReader(
        (message) => delivered.push((message as { m: unknown[] }).m[3]),
        () => {
          throw new Error('malformed');
        },
        (reason) => {
          throw new Error(reason);
        },
        1 << 20,
      );
      reader.enable();
      const sent: unknown[] = [];
      const bytes: Buffer[] = [];
      const frames: unknown[] = [];
      for (let i = 0; i < 10; i++) {
        const text = next() < 0.5 ? 'x'.repeat(kBulkMinChars + i) : `short ${i}`;
        sent.push(text);
        const bulk = encodeBulk(text, text.length + 2);
        if (bulk === undefined) frames.push({ __ck: 1, m: [3, 0, 'type', text] });
        else {
          const data = Buffer.from(bulk.strings[0]!, 'utf8');
          bytes.push(withTrailer(data, bytes.length));
          frames.push({ __ck: 1, m: [3 | 16, 0, 'type', bulk.field], b: [data.length] });
        }
      }
      const all = Buffer.concat(bytes);
      let offset = 0;
      // Frames and byte chunks of random sizes, interleaved at random.
      for (const frame of frames) {
        while (offset < all.length && next() < 0.5) {
          const size = 1 + Math.floor(next() * 3000);
          reader.push(all.subarray(offset, offset + size));
          offset += size;
        }
        reader.receive(frame);
      }
      if (offset < all.length) reader.push(all.subarray(offset));
      expect(delivered).toEqual(sent);
      expect(reader.heldFrames).toBe(0);
    }
  });
});
