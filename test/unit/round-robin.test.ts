import { describe, expect, it } from '@jest/globals';
import { kMaxRotations, RoundRobin } from '../../src/primary/pool/round-robin.js';

describe('RoundRobin', () => {
  it('picks the least recently picked member, each tag on its own', () => {
    const rr = new RoundRobin<string>();
    for (const member of ['a', 'b', 'c']) rr.add(member);
    expect([1, 2, 3, 4, 5, 6].map(() => rr.pick('x'))).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    // A new tag starts where the last new one did not (H742): 'x' started at 'a'.
    expect([rr.pick('y'), rr.pick('y')]).toEqual(['b', 'c']);
    expect(rr.pick('x')).toBe('a');
  });

  it('puts a member that was never picked first, and forgets removed ones', () => {
    const rr = new RoundRobin<string>();
    rr.add('a');
    rr.add('b');
    expect(rr.pick('t')).toBe('a');
    rr.add('c');
    expect(rr.pick('t')).toBe('b');
    expect(rr.pick('t')).toBe('c');
    rr.remove('a');
    expect([rr.pick('t'), rr.pick('t'), rr.pick('t')]).toEqual(['b', 'c', 'b']);
    rr.remove('b');
    rr.remove('c');
    expect(rr.pick('t')).toBeUndefined();
    expect(rr.size).toBe(0);
  });

  it('limits picks to members with a role', () => {
    const rr = new RoundRobin<string>();
    rr.add('a', ['db']);
    rr.add('b');
    rr.add('c', ['db', 'io']);
    expect([rr.pick('t', 'db'), rr.pick('t', 'db'), rr.pick('t', 'db')]).toEqual(['a', 'c', 'a']);
    expect(rr.pick('t', 'io')).toBe('c');
    expect(rr.pick('t', 'none')).toBeUndefined();
    rr.add('d', ['io']);
    expect([rr.pick('t', 'io'), rr.pick('t', 'io')]).toEqual(['d', 'c']);
    expect(rr.pick('t')).toBe('a');
  });

  it('[H77] passes over members the caller says no to, keeping their place, unless all are', () => {
    const rr = new RoundRobin<string>();
    for (const member of ['a', 'b', 'c']) rr.add(member);
    const silent = new Set(['b']);
    const isSilent = (member: string) => silent.has(member);
    // Never picked yet or least recently picked: b is passed over each time.
    expect([1, 2, 3, 4].map(() => rr.pick('t', undefined, isSilent))).toEqual(['a', 'c', 'a', 'c']);
    // b kept its place at the front: once it answers again it is next.
    silent.clear();
    expect([1, 2, 3].map(() => rr.pick('t', undefined, isSilent))).toEqual(['b', 'a', 'c']);
    // Every member silent: the rotation as without the test, nothing thrown.
    for (const member of ['a', 'b', 'c']) silent.add(member);
    expect([1, 2, 3, 4].map(() => rr.pick('t', undefined, isSilent))).toEqual(['b', 'a', 'c', 'b']);
    // Within a role: the only other member with the role is picked while one is silent.
    rr.add('d', ['io']);
    rr.add('e', ['io']);
    silent.clear();
    silent.add('d');
    expect([1, 2, 3].map(() => rr.pick('t', 'io', isSilent))).toEqual(['e', 'e', 'e']);
    silent.add('e');
    expect([1, 2].map(() => rr.pick('t', 'io', isSilent))).toEqual(['d', 'e']);
  });

  it('is fair to within one pick over many picks', () => {
    const rr = new RoundRobin<number>();
    for (let i = 0; i < 7; i++) rr.add(i);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 10_000; i++) counts[rr.pick('t')!]++;
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('bounds the number of rotations it remembers, with roles or not', () => {
    const rr = new RoundRobin<string>();
    rr.add('a', ['io']);
    for (let i = 0; i < kMaxRotations + 10; i++) expect(rr.pick(`tag-${i}`, i % 2 === 0 ? undefined : 'io')).toBe('a');
    expect(rr.rotationCount).toBe(kMaxRotations);
    // A role no member has keeps no rotation: roles asked for are not bounded.
    for (let i = 0; i < 100; i++) expect(rr.pick('t', `role-${i}`)).toBeUndefined();
    expect(rr.rotationCount).toBe(kMaxRotations);
    expect(rr.pick('tag-0')).toBe('a');
    expect(rr.rotationCount).toBe(kMaxRotations);
  });

  it('[H742] starts each new rotation at the member least recently started at, per role, so tags that come and go spread evenly', () => {
    const rr = new RoundRobin<string>();
    for (const member of ['a', 'b', 'c', 'd']) rr.add(member);
    rr.add('e', ['io']);
    rr.add('f', ['io']);
    const count = (tags: string[], role?: string) => {
      const counts: Record<string, number> = {};
      for (const tag of tags) {
        const member = rr.pick(tag, role)!;
        counts[member] = (counts[member] ?? 0) + 1;
      }
      return counts;
    };
    // Before (hostile t84 #3): every new rotation started at the first member, so a tag per pick was always 'a'.
    expect(count(Array.from({ length: 1200 }, (_, i) => `req-${i}`))).toEqual({ a: 200, b: 200, c: 200, d: 200, e: 200, f: 200 });
    // More tags than are kept, cycled: each comes back forgotten, and still spreads.
    const tenants = Array.from({ length: kMaxRotations + 76 }, (_, i) => `tenant-${i}`);
    expect(count(Array.from({ length: 6 }, () => tenants).flat())).toEqual({ a: 1100, b: 1100, c: 1100, d: 1100, e: 1100, f: 1100 });
    // Each role starts on its own: new tags with role 'io' alternate between its two members, whatever comes between.
    const io: string[] = [];
    for (let i = 0; i < 6; i++) {
      io.push(rr.pick(`job-${i}`, 'io')!);
      rr.pick(`other-${i}`);
    }
    expect(io).toEqual(['e', 'f', 'e', 'f', 'e', 'f']);
    // A new rotation goes on in the start order after its first pick, as one rotation over all members.
    rr.remove('e');
    rr.remove('f');
    const first = rr.pick('fresh-1')!;
    expect([1, 2, 3].map(() => rr.pick('fresh-1'))).not.toContain(first);
    // Silent members are passed over at the start too, keeping their place.
    const silent = new Set(['a', 'b', 'c']);
    expect([1, 2, 3].map((i) => rr.pick(`quiet-${i}`, undefined, (m) => silent.has(m)))).toEqual(['d', 'd', 'd']);
  });

  it('[H742] forgets a rotation not picked lately, not the oldest made: a tag picked among churn keeps its rotation', () => {
    const rr = new RoundRobin<string>();
    for (const member of ['a', 'b', 'c']) rr.add(member);
    const hot: string[] = [];
    for (let i = 0; i < 4 * kMaxRotations; i++) {
      hot.push(rr.pick('hot')!);
      rr.pick(`churn-${i}`);
    }
    // Before (hostile t84 #3): 'hot' was forgotten once 1 024 churn tags came after it, its next pick restarting at 'a' after an 'a'.
    for (let i = 0; i + 3 <= hot.length; i += 3) expect(new Set(hot.slice(i, i + 3)).size).toBe(3);
    expect(rr.rotationCount).toBe(kMaxRotations);
  });

  it('[H728] keeps every (tag, role) pair apart, whatever the tag holds', () => {
    const rr = new RoundRobin<string>();
    rr.add('plain');
    rr.add('io', ['io']);
    expect(rr.pick('jobs\u0000io')).toBe('plain');
    expect([1, 2, 3].map(() => rr.pick('jobs', 'io'))).toEqual(['io', 'io', 'io']);
    expect([1, 2].map(() => rr.pick('jobs\u0000io'))).toEqual(['io', 'plain']);
  });
});
