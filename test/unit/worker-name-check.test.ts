/**
 * [H361] The check of a worker name or role that `sendTo(name)` and `roundRobin({ role })` run on
 * every call remembers the names it accepted (at most 1 000): the answers must be those of the
 * full check, whatever was asked before.
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../../src/errors.js';
import { workerNameArgument, workerNameProblem } from '../../src/validate.js';

describe('[H361] the remembered worker names', () => {
  it('[H361] answers as the full check: names and roles apart, refusals never remembered, past 1 000 names too', () => {
    // A name may have a comma, a role may not: a name accepted first does not pass as a role.
    expect(workerNameArgument('a,b', 'x')).toBe('a,b');
    expect(() => workerNameArgument('a,b', 'The "role"', 'role')).toThrow(InvalidArgumentError);
    expect(() => workerNameArgument('a,b', 'The "role"', 'role')).toThrow(/it has a comma at index 1/);
    for (let round = 0; round < 2; round++) {
      expect(() => workerNameArgument('b\u2800', 'x')).toThrow(/U\+2800 \(braille pattern blank\), at index 1/);
      expect(() => workerNameArgument('cafe\u0301', 'x')).toThrow(/not in Unicode NFC/);
    }
    // 2 500 distinct names, ASCII and not: each as the full check says, the first ones again after.
    const names = Array.from({ length: 2_500 }, (_, index) => (index % 2 === 0 ? `worker-${index}` : `wörker-${index}`));
    for (const name of [...names, ...names.slice(0, 10)]) {
      expect(workerNameProblem(name)).toBeUndefined();
      expect(workerNameArgument(name, 'x')).toBe(name);
      expect(() => workerNameArgument(`${name} `, 'x')).toThrow(/it ends with a space/);
    }
    // The ASCII shortcut: printable ASCII, no space at either end, up to 128 characters.
    expect(workerNameArgument('x'.repeat(128), 'x')).toHaveLength(128);
    expect(() => workerNameArgument('x'.repeat(129), 'x')).toThrow(/it has 129 characters/);
    expect(workerNameArgument('a b', 'x')).toBe('a b');
    expect(workerNameArgument('~!', 'x')).toBe('~!');
    expect(() => workerNameArgument('a\x7f', 'x')).toThrow(/control character U\+007F/);
    expect(() => workerNameArgument(' ', 'x')).toThrow(/it is blank/);
  });

  // Before (retest t37 N3): '\u0301' and '\u0301a' were names and roles (NFC both), blank or
  // shifted in clusterkit status.
  it('[H361][H372] a name or role starting with a combining mark is refused every time, never remembered; one with a mark later is remembered as before', () => {
    for (let round = 0; round < 3; round++) {
      expect(() => workerNameArgument('\u0301', 'x')).toThrow(/it is made of combining marks only, the first U\+0301 at index 0, so it would show as an empty name in clusterkit status: start it with a letter, digit or symbol/);
      expect(() => workerNameArgument('\u0301', 'The "role"', 'role')).toThrow(/so it would show as an empty role in clusterkit status/);
      expect(() => workerNameArgument('\u0301a', 'x')).toThrow(/it starts with a combining mark U\+0301 at index 0, which joins the character shown before it \(in clusterkit status, the column's padding\): start it with a letter, digit or symbol/);
      expect(workerNameArgument('b\u20dd', 'x')).toBe('b\u20dd');
      expect(workerNameArgument('x-\u20dd', 'x')).toBe('x-\u20dd');
    }
    expect(workerNameProblem('\u{1D165}x')).toMatch(/^it starts with a combining mark U\+1D165 at index 0/);
    // A space first is said as such, before the mark.
    expect(workerNameProblem(' \u0301')).toMatch(/^it starts with a space/);
  });
});
