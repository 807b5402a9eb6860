import { describe, expect, it } from '@jest/globals';
import { clientKey, RendezvousHash } from '../../src/primary/features/rendezvous.js';

describe('rendezvous hashing', () => {
  const hash = new RendezvousHash(Buffer.alloc(32, 7));
  const workers = [0, 1, 2, 3];
  const pick = (key: string, candidates = workers) => hash.pick(key, candidates, (slot) => slot)!;

  it('is stable and spreads keys over all candidates', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 4_000; i++) {
      const key = `10.0.${i >> 8}.${i & 255}`;
      expect(pick(key)).toBe(pick(key));
      counts.set(pick(key), (counts.get(pick(key)) ?? 0) + 1);
    }
    for (const count of counts.values()) expect(count).toBeGreaterThan(800);
  });

  it('moves only the clients of a removed candidate', () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `192.168.1.${i}`);
    const before = new Map(keys.map((key) => [key, pick(key)]));
    const after = new Map(keys.map((key) => [key, pick(key, [0, 1, 3])]));
    for (const key of keys) {
      if (before.get(key) !== 2) expect(after.get(key)).toBe(before.get(key));
      else expect(after.get(key)).not.toBe(2);
    }
  });

  it('depends on the secret, and reads IPv4-mapped addresses as IPv4', () => {
    const other = new RendezvousHash(Buffer.alloc(32, 9));
    const keys = Array.from({ length: 200 }, (_, i) => `172.16.0.${i}`);
    expect(keys.some((key) => other.pick(key, workers, (slot) => slot) !== pick(key))).toBe(true);
    expect(clientKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(clientKey('::1')).toBe('::1');
    expect(hash.pick('x', [], (slot: number) => slot)).toBeUndefined();
  });
});
