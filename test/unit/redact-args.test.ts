/**
 * `show` hides secrets passed as arguments (H236): a secret-looking flag's value, and (retester
 * t25) a URL's password, a `NAME=value` with a secret-looking name, `--pwd` and `--bearer`; a
 * flag that says where a secret is (`--token-file`) keeps its value. Secret words match on word
 * boundaries, and `-p` is hidden unless a port (H244). Secrets inside any argument: a URL's
 * password and secret query values, a secret header's value, a Bearer token (H252).
 */
import { describe, expect, it } from '@jest/globals';
import { kHiddenValue, redactArgs } from '../../src/cli/redact-args.js';
import { redactText } from '../../src/cli/redact-text.js';

const H = kHiddenValue;

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

  // Before (retester): `postgres://u:<hidden>@h/db?password=hunter2&sslmode=require`, the token
  // of `https://x/?token=abc` and every header printed in full.
  it('[H252] hides URL passwords and secret query values, secret headers\' values and Bearer tokens inside any argument, keeping the rest readable', () => {
    const cases: Array<[string[], string[]]> = [
      [['--db', 'postgres://u:pw@h/db?password=hunter2&sslmode=require'], ['--db', `postgres://u:${H}@h/db?password=${H}&sslmode=require`]],
      [['--db=postgres://u:p@ss@h/db'], [`--db=postgres://u:${H}@h/db`]],
      [['https://x/?token=abc&api_key=def&page=2#access_token=zz'], [`https://x/?token=${H}&api_key=${H}&page=2#access_token=${H}`]],
      [['https://s3/o?X-Amz-Credential=AK&X-Amz-Signature=ff&X-Amz-Expires=60', 'https://b/c?sv=2020&sig=ab%3D&se=2030'], [`https://s3/o?X-Amz-Credential=${H}&X-Amz-Signature=${H}&X-Amz-Expires=60`, `https://b/c?sv=2020&sig=${H}&se=2030`]],
      [['DB_URL=mysql://root:rootpw@h:3306/x?ssl=true&pwd=p'], [`DB_URL=mysql://root:${H}@h:3306/x?ssl=true&pwd=${H}`]],
      [['-H', 'Authorization: Bearer X'], ['-H', `Authorization: ${H}`]],
      [['--header', 'X-Api-Key: Y', '-H', 'Cookie: sid=abc; theme=dark', '--header=Proxy-Authorization: Basic dTpw'], ['--header', `X-Api-Key: ${H}`, '-H', `Cookie: ${H}`, `--header=Proxy-Authorization: ${H}`]],
      [['Set-Cookie: s=1', 'X-Auth-Token: t', 'X-Client-Secret: c', 'Private-Token: g', 'A: b\nAuthorization: x\r\nHost: h'], [`Set-Cookie: ${H}`, `X-Auth-Token: ${H}`, `X-Client-Secret: ${H}`, `Private-Token: ${H}`, `A: b\nAuthorization: ${H}\r\nHost: h`]],
      [['--auth-header-value', 'x', '--msg', 'Bearer abc.def-ghi=='], ['--auth-header-value', H, '--msg', `Bearer ${H}`]],
      [['host=h password=pw dbname=x', 'Server=h;Password=pw;Database=x', '{"password":"a\\"b","user":"u"}'], [`host=h password=${H} dbname=x`, `Server=h;Password=${H};Database=x`, `{"password":"${H}","user":"u"}`]],
    ];
    for (const [given, shown] of cases) {
      const { args, hidden } = redactArgs(given);
      expect(args).toEqual(shown);
      expect(hidden).toBeGreaterThan(0);
    }
    // Kept: what names no secret, H244's words on their boundaries in query names and headers too.
    const kept = [
      'Content-Type: application/json', 'X-Request-Id: 5', 'Accept: */*', 'https://x/?page=2&author=ann&keyboard=us&tokenizer=bpe', 'http://host:8080/path?sslmode=require',
      'ssh://git@github.com/o/r', 'send a bearer token', 'https://x/?token_url=https://y', 'X-Session-Id: 1',
    ];
    expect(redactArgs(kept)).toEqual({ args: kept, hidden: 0 });
    // In any text show prints (a config's value it did not use), a quoted one included.
    expect(redactText('"https://x?token=abc"')).toBe(`"https://x?token=${H}"`);
    expect(redactText('["npm ci", "curl -H \'X-Auth-Token: t\' https://u:p@x"]')).toBe(`["npm ci", "curl -H 'X-Auth-Token: ${H}' https://u:${H}@x"]`);
  });

  // Before: `--passwd:SEC` was shown in full (tester t30 L5): its name was read as `passwd:SEC`.
  it('[H286] hides a secret flag\'s value after any separator (=, :, a space, the next argument), for every secret name', () => {
    const names = ['password', 'passwd', 'pwd', 'pass', 'passphrase', 'token', 'access-token', 'secret', 'client_secret', 'api-key', 'apiKey', 'auth', 'authorization', 'bearer', 'jwt', 'cookie', 'session', 'credential', 'sig', 'signature'];
    for (const name of names) {
      for (const dashes of ['--', '-']) {
        const flag = `${dashes}${name}`;
        const forms: Array<[string[], string[]]> = [
          [[`${flag}=S1`], [`${flag}=${H}`]],
          [[`${flag}:S1`], [`${flag}:${H}`]],
          [[`${flag}: S1`], [`${flag}: ${H}`]],
          [[`${flag} S1`], [`${flag} ${H}`]],
          [[`${flag} = S1`], [`${flag} = ${H}`]],
          [[flag, 'S1'], [flag, H]],
          [[`${flag}:`, 'S1'], [`${flag}:`, H]],
        ];
        for (const [given, shown] of forms) {
          expect([given, redactArgs(given)]).toEqual([given, { args: shown, hidden: 1 }]);
        }
      }
    }
    // A name that is no secret keeps its value, whatever the separator.
    const kept = ['--inspect=127.0.0.1:9229', '--port:80', '--author:ann', '--token-file:/run/t', '--key-path /k'];
    expect(redactArgs(kept)).toEqual({ args: kept, hidden: 0 });
  });
});
