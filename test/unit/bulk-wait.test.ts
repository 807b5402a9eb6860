/**
 * BulkWait (src/primary/pool/bulk-wait.ts) is pure: the caller passes the clock and the reader's
 * state. What it says of a worker whose messages wait for bulk-pipe bytes decides between a
 * blocked event loop (silent), lost bytes (bulk-lost) and a worker that is only held.
 */
import { describe, expect, it } from '@jest/globals';
import { BulkWait } from '../../src/primary/pool/bulk-wait.js';

describe('BulkWait', () => {
  // Before (retest t72 N4): a worker that kept answering, its answers held behind a frame owed
  // bytes, was first reported `silent ..., its event loop most likely blocked`.
  it('[H696] a worker heard while its messages are held: for the silence threshold after its last message, and no longer once the wait ends', () => {
    const wait = new BulkWait();
    // The frame that owes bytes: the wait begins, nothing heard during it yet (its loop may be blocked mid-write).
    wait.onMessage(false, true, 1_000, 1_000);
    expect(wait.isHeardWhileHeld(1_500, 2_000)).toBe(false);
    // A message that came during the wait (held behind the first): its loop turned then.
    wait.onMessage(true, true, 1_200, 1_000);
    expect(wait.isHeardWhileHeld(3_199, 2_000)).toBe(true);
    expect(wait.isHeardWhileHeld(3_200, 2_000)).toBe(false);
    // Bytes keep the wait on while frames still wait after them.
    wait.onBytes(true, 1_300);
    expect(wait.isHeardWhileHeld(1_400, 2_000)).toBe(true);
    // Bytes that complete the held frames end the wait: what counts then is the heartbeat's own.
    wait.onBytes(false, 1_400);
    expect(wait.isHeardWhileHeld(1_500, 2_000)).toBe(false);
    // A new wait starts from nothing heard.
    wait.onMessage(false, true, 5_000, 1_000);
    expect(wait.isHeardWhileHeld(5_001, 2_000)).toBe(false);
    wait.onMessage(true, true, 5_100, 1_000);
    expect(wait.isHeardWhileHeld(5_200, 2_000)).toBe(true);
    // A message that releases the frames (no longer holding) ends it too.
    wait.onMessage(true, false, 5_300, 1_000);
    expect(wait.isHeardWhileHeld(5_400, 2_000)).toBe(false);
  });

  it('[H696] being heard while held does not by itself say the bytes are lost: that needs a message a margin after the wait began and no bytes since', () => {
    const wait = new BulkWait();
    wait.onMessage(false, true, 0, 1_000);
    wait.onMessage(true, true, 100, 1_000);
    expect(wait.isHeardWhileHeld(200, 2_000)).toBe(true);
    expect(wait.isLost(5_000, 500)).toBe(false);
    wait.onMessage(true, true, 1_100, 1_000);
    expect(wait.isLost(1_599, 500)).toBe(false);
    expect(wait.isLost(1_600, 500)).toBe(true);
  });
});
