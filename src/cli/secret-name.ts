/**
 * Whether a name (a flag's, a `NAME=value`'s, a URL query parameter's, a header's) looks like it
 * names a secret, for `show` (H236, H244, H252). A name looks secret when one of its words is a
 * secret word: words split at `-`, `_`, `.` and camelCase, so `--api-key`, `--apiKey`,
 * `DB_PASSWORD`, `X-Api-Key` are secret while `--author`, `--passive`, `--keyboard` and
 * `--tokenizer` are not (each one word, not a secret one). A word that ends with a long secret
 * word (`dbpassword`, `accesstoken`) counts too. A name whose last word says where a secret is
 * (`--token-file`, `--key-path`) or what kind (`--token-ttl`) is no secret itself.
 */

/** What replaces a hidden value. */
export const kHiddenValue = '<hidden>';

/**
 * Words of a name that carry secrets (a plural too: `--api-keys`). `sig` and `signature`: a
 * signed URL's (`X-Amz-Signature`, Azure's `sig`), which grants what a password does (H252).
 */
const kSecretWords = new Set([
  'auth', 'oauth', 'authorization', 'token', 'secret', 'password', 'passwd', 'passphrase', 'pwd', 'pass', 'key', 'apikey', 'credential', 'bearer', 'jwt', 'cookie', 'session',
  'sig', 'signature',
]);

/** Secret words long enough to be one at the end of a longer word: `pgpassword`, `accesstoken`, `clientsecret`. */
const kSecretEnding = /(?:password|passwd|passphrase|secret|token|credential|apikey)s?$/;

/**
 * A last word saying where a secret is or what kind, not what: `--token-file`, `--key-path`,
 * `--secret-dir`, `--key-id`, `--token-url`, `--password-stdin`, `--token-ttl`, `--session-timeout`.
 */
const kNotSecretLast = new Set(['file', 'path', 'dir', 'name', 'id', 'url', 'uri', 'host', 'port', 'stdin', 'ttl', 'timeout', 'type', 'method', 'size', 'length', 'mode']);

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

export function isSecretName(name: string): boolean {
  const words = wordsOf(name);
  const last = words.at(-1);
  return last !== undefined && !kNotSecretLast.has(last) && words.some(isSecretWord);
}
