/**
 * `show` hides secrets passed as arguments (H236): a secret-looking flag's value, and (retester
 * t25) a URL's password, a `NAME=value` with a secret-looking name, `--pwd` and `--bearer`; a
 * flag that says where a secret is (`--token-file`) keeps its value.
 */
import { describe, expect, it } from '@jest/globals';
import { kHiddenValue, redactArgs } from '../../src/cli/redact-args.js';

describe('redactArgs', () => {
  it('[H236] hides the values of secret-looking flags, URL passwords and secret NAME=value arguments, and keeps where a secret is', () => {
    const { args, hidden } = redactArgs([
      '--db', 'postgres://admin:PGPASS1@db:5432/x', 'DB_PASSWORD=P7', '--pwd', 'x1', '--bearer=abc',
      '--token-file', '/run/token', '--password', 'S', '--token', '--verbose', '--port', '80', 'redis://:onlypass@host', 42,
    ]);
    expect(args).toEqual([
      '--db', `postgres://admin:${kHiddenValue}@db:5432/x`, `DB_PASSWORD=${kHiddenValue}`, '--pwd', kHiddenValue, `--bearer=${kHiddenValue}`,
      '--token-file', '/run/token', '--password', kHiddenValue, '--token', '--verbose', '--port', '80', `redis://:${kHiddenValue}@host`, 42,
    ]);
    expect(hidden).toBe(6);
  });
});
