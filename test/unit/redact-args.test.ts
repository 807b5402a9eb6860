/**
 * `show` hides secrets passed as arguments (H236): a secret-looking flag's value, and (retester
 * t25) a URL's password, a `NAME=value` with a secret-looking name, `--pwd` and `--bearer`; a
 * flag that says where a secret is (`--token-file`) keeps its value. Secret words match on word
 * boundaries, and `-p` is hidden unless a port (H244).
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

  // Before: `-p P4` shown (retester t25 E), and any name holding "auth", "pass", "key" or "token"
  // hidden: `--author Ann`, `--passive on`, `--keyboard us`, `--tokenizer bpe`.
  it('[H244] matches secret words on word boundaries (and camelCase), hides -p unless a port, and keeps a name whose last word says where or what kind', () => {
    const hiddenAfter = [
      '--auth', '--oauth', '--authorization', '--auth-token', '--authToken', '--token', '--api-tokens', '--secret', '--client-secret', '--clientSecret',
      '--password', '--db-password', '--dbPassword', '--pgpassword', '--passwd', '--passphrase', '--pwd', '--pass', '--db-pass', '--key', '--api-key', '--apiKey',
      '--apikey', '--api_key', '--private.key', '--credential', '--credentials', '--bearer', '--jwt', '--cookie', '--cookie-secret', '--session', '--session-secret', '--accesstoken', '-token', '-pwd',
    ];
    for (const flag of hiddenAfter) {
      expect([flag, redactArgs([flag, 'S3CRET']).args]).toEqual([flag, [flag, kHiddenValue]]);
      expect([flag, redactArgs([`${flag}=S3CRET`]).args]).toEqual([flag, [`${flag}=${kHiddenValue}`]]);
    }
    const keptAfter = [
      '--author', '--authority', '--authors', '--passive', '--compass', '--bypass', '--keyboard', '--keep-alive', '--monkey', '--hotkey', '--tokenizer', '--sessionize',
      '--token-file', '--key-path', '--secret-dir', '--secret-name', '--key-id', '--token-url', '--password-stdin', '--token-ttl', '--session-timeout', '--key-type', '--auth-method',
      '--port', '-P', '--passenger',
    ];
    for (const flag of keptAfter) {
      expect([flag, redactArgs([flag, 'shown']).args]).toEqual([flag, [flag, 'shown']]);
      expect([flag, redactArgs([`${flag}=shown`]).args]).toEqual([flag, [`${flag}=shown`]]);
    }
    for (const name of ['DB_PASSWORD', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'PGPASSWORD', 'MYSQL_PWD', 'SESSION_SECRET', 'apiKey']) expect(redactArgs([`${name}=v`]).args).toEqual([`${name}=${kHiddenValue}`]);
    for (const name of ['AUTHOR', 'PASSIVE_MODE', 'PASSWORD_FILE', 'AWS_ACCESS_KEY_ID', 'KEYBOARD']) expect(redactArgs([`${name}=v`]).args).toEqual([`${name}=v`]);

    // -p: mysql's and psql-like tools' password, or a port in a Node script.
    expect(redactArgs(['-p', 'P4', '-p', '3000', '-p', '--verbose', '-pP4', '-p8080', '-p=P4', '-p=80'])).toEqual({
      args: ['-p', kHiddenValue, '-p', '3000', '-p', '--verbose', `-p${kHiddenValue}`, '-p8080', `-p=${kHiddenValue}`, '-p=80'],
      hidden: 3,
    });
  });
});
