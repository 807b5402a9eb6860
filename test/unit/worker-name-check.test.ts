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
});
