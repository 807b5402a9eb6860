import { describe, expect, it } from '@jest/globals';
import { ClusterListens, halfOpenFileLimit } from '../../src/primary/pool/cluster-listens.js';

const limits = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63704                63704                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \n`;

describe('the cluster-wide bound on listening addresses', () => {
  it('[H68] is half the open-file soft limit of /proc/self/limits, none when unlimited or unreadable', () => {
    expect(halfOpenFileLimit(limits('1024', '1024'))).toBe(512);
    expect(halfOpenFileLimit(limits('20000', '20000'))).toBe(10_000);
    expect(halfOpenFileLimit(limits('unlimited', 'unlimited'))).toBeUndefined();
    expect(halfOpenFileLimit('garbage')).toBeUndefined();
  });

  it('[H68] counts a key once however many workers hold it, and frees it with its last holder', () => {
    const listens = new ClusterListens(2);
    listens.hold('a');
    listens.hold('a');
    expect(listens.size).toBe(1);
    listens.hold('b');
    expect(listens.mayHold('a')).toBe(true); // shared: no new socket
    expect(listens.mayHold('c')).toBe(false);
    listens.release('a');
    expect(listens.mayHold('c')).toBe(false); // one worker still holds a
    listens.release('a');
    expect(listens.mayHold('c')).toBe(true);
    listens.release('zzz'); // never held: nothing happens
    expect(listens.size).toBe(1);
  });

  it('[H173] tells a new run of holders of a key from the one before it (node:cluster made a new handle)', () => {
    const listens = new ClusterListens(4);
    expect(listens.generation('a')).toBeUndefined();
    listens.hold('a');
    const first = listens.generation('a');
    listens.hold('a');
    listens.release('a');
    expect(listens.generation('a')).toBe(first); // one holder left all along: the same handle
    listens.release('a');
    expect(listens.generation('a')).toBeUndefined();
    listens.hold('a');
    expect(listens.generation('a')).not.toBe(first);
  });
});
