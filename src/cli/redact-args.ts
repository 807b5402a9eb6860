/**
 * `show` hides env values; a secret passed as an argument (`--password s3cret`, a Node
 * `--auth-token=...`) was printed in full in the same output, text and `--json` (H236). The
 * value of a flag whose name looks secret is replaced, in both forms: `--flag=value` and
 * `--flag value` (the next argument, unless it is a flag itself: `--token --verbose`). Also, in
 * any argument, the password of a URL (`postgres://admin:s3cret@db` keeps `admin`) and the value
 * of a `NAME=value` whose name looks secret (`DB_PASSWORD=s3cret`). A flag naming where a secret
 * is (`--token-file /run/token`, `--key-path`), or what kind it is (`--token-ttl 3600`), is no
 * secret itself: kept (retester t25).
 *
 * A name looks secret when one of its words is a secret word (H244): words split at `-`, `_`,
 * `.` and camelCase, so `--api-key`, `--apiKey`, `DB_PASSWORD` are hidden while `--author`,
 * `--passive`, `--keyboard` and `--tokenizer` are not (each one word, not a secret one). A word
 * that ends with a long secret word (`dbpassword`, `accesstoken`) counts too. `-p` is mysql's
 * and psql-like tools' password flag, and as often a port in a Node script (`-p 3000`): its
 * value is hidden unless it is all digits.
 */

/** What replaces a hidden value. */
export const kHiddenValue = '<hidden>';

/** Words of a name that carry secrets (a plural too: `--api-keys`). */
const kSecretWords = new Set([
  'auth', 'oauth', 'authorization', 'token', 'secret', 'password', 'passwd', 'passphrase', 'pwd', 'pass', 'key', 'apikey', 'credential', 'bearer', 'jwt', 'cookie', 'session',
]);

/** Secret words long enough to be one at the end of a longer word: `pgpassword`, `accesstoken`, `clientsecret`. */
const kSecretEnding = /(?:password|passwd|passphrase|secret|token|credential|apikey)s?$/;

/**
 * A last word saying where a secret is or what kind, not what: `--token-file`, `--key-path`,
 * `--secret-dir`, `--key-id`, `--token-url`, `--password-stdin`, `--token-ttl`, `--session-timeout`.
 */
const kNotSecretLast = new Set(['file', 'path', 'dir', 'name', 'id', 'url', 'uri', 'host', 'port', 'stdin', 'ttl', 'timeout', 'type', 'method', 'size', 'length', 'mode']);

/** A URL's `user:password@`: the password is replaced, the user kept. */
const kUrlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]+@/gi;

/** `NAME=value` (no leading dash): an env-style assignment passed as an argument. */
const kAssignment = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

/** `apiKey` -> `api`, `key`; `DB_PASSWORD` -> `db`, `password`; `HTTPToken` -> `http`, `token`. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[-_.\s]+/)
    .filter((word) => word !== '');
}

function isSecretWord(word: string): boolean {
  return kSecretWords.has(word) || kSecretWords.has(word.replace(/s$/, '')) || kSecretEnding.test(word);
}

function isSecretName(name: string): boolean {
  const words = wordsOf(name);
  const last = words.at(-1);
  return last !== undefined && !kNotSecretLast.has(last) && words.some(isSecretWord);
}

/** `arg` with a URL's password hidden, and, for `NAME=value` with a secret-looking name, the value. */
function redactInline(arg: string): { text: string; isHidden: boolean } {
  const assignment = kAssignment.exec(arg);
  if (assignment !== null && isSecretName(assignment[1]!)) return { text: `${assignment[1]}=${kHiddenValue}`, isHidden: true };
  const text = arg.replace(kUrlPassword, `$1${kHiddenValue}@`);
  return { text, isHidden: text !== arg };
}

/** A flag, its name and its `=value` part: `--password=x`, `-token`. */
const kFlag = /^--?([^=\s]+)(=.*)?$/s;

/** `-p`'s value, attached (`-psecret`, mysql's form) or after `=`: hidden unless a port's digits. */
const kShortP = /^-p=?(.+)$/s;

/** Whether `-p`'s value looks like a password rather than a port. */
function isPasswordOfP(value: string): boolean {
  return !/^\d+$/.test(value);
}

/** `args` with the values of secret-looking flags replaced; anything but a string is kept as it is. */
export function redactArgs(args: readonly unknown[]): { args: unknown[]; hidden: number } {
  const out: unknown[] = [];
  let hidden = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'string') {
      out.push(arg);
      continue;
    }
    const next = args[i + 1];
    const match = kFlag.exec(arg);
    if (match === null || !isSecretName(match[1]!)) {
      // After the secret names: `-pwd x` is a flag of its own, not `-p` with "wd".
      if (arg === '-p') {
        out.push(arg);
        if (typeof next === 'string' && !next.startsWith('-') && isPasswordOfP(next)) {
          out.push(kHiddenValue);
          hidden++;
          i++;
        }
        continue;
      }
      const shortP = kShortP.exec(arg);
      if (shortP !== null && isPasswordOfP(shortP[1]!)) {
        out.push(`${arg.slice(0, -shortP[1]!.length)}${kHiddenValue}`);
        hidden++;
        continue;
      }
      const inline = redactInline(arg);
      out.push(inline.text);
      if (inline.isHidden) hidden++;
      continue;
    }
    if (match[2] !== undefined) {
      out.push(`${arg.slice(0, -match[2].length)}=${kHiddenValue}`);
      hidden++;
      continue;
    }
    out.push(arg);
    if (typeof next === 'string' && !next.startsWith('--')) {
      out.push(kHiddenValue);
      hidden++;
      i++;
    }
  }
  return { args: out, hidden };
}
