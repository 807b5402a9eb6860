import { describe, expect, it } from '@jest/globals';
import { kMaxRotations, RoundRobin } from '../../src/primary/pool/round-robin.js';

describe('RoundRobin', () => {
  it('picks the least recently picked member, each tag on its own', () => {
    const rr = new RoundRobin<string>();
    for (const member of ['a', 'b', 'c']) rr.add(member);
    expect([1, 2, 3, 4, 5, 6].map(() => rr.pick('x'))).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(rr.pick('y')).toBe('a');
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
    for (let i = 0; i < kMaxRotations + 10; i++) expect(rr.pick(`tag-${i}`, i % 2 === 0 ? undefined : `role-${i}`)).toBe(i % 2 === 0 ? 'a' : undefined);
    expect(rr.rotationCount).toBe(kMaxRotations);
    // The oldest is forgotten: its next pick starts afresh; the others keep their place.
    expect(rr.pick('tag-0')).toBe('a');
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
