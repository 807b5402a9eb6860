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
 * that ends with a long secret word (`dbpassword`, `accesstoken`) counts too (secret-name.ts).
 * Secrets inside any other argument (a URL's query values, a header's value) are redact-text.ts's
 * (H252). `-p` is mysql's and psql-like tools' password flag, and as often a port in a Node script
 * (`-p 3000`): its value is hidden unless it is all digits.
 */
import { redactText } from './redact-text.js';
import { isSecretName, kHiddenValue } from './secret-name.js';

export { kHiddenValue } from './secret-name.js';

/** `NAME=value` (no leading dash): an env-style assignment passed as an argument. */
const kAssignment = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

/** A flag with its value after `=`: `--db=postgres://...`, `--header=Authorization: Bearer x`. */
const kFlagWithValue = /^(--?[^=\s]+=)(.*)$/s;

/**
 * `arg` with its secrets hidden: all of a `NAME=value`'s value when the name looks secret, else
 * those inside it (redact-text.ts: a URL's password and secret query values, a secret header's
 * value), in a flag's `=value` as in an argument of its own.
 */
function redactInline(arg: string): string {
  const assignment = kAssignment.exec(arg);
  if (assignment !== null && isSecretName(assignment[1]!)) return `${assignment[1]}=${kHiddenValue}`;
  const flag = kFlagWithValue.exec(arg);
  if (flag !== null) return `${flag[1]}${redactInline(flag[2]!)}`;
  return redactText(arg);
}

/**
 * A flag, its name, and its value when the same argument holds it: after `=`, `:` or white
 * space (`--password=x`, `--passwd:x`, `'--token x'`), `-token` with none. The separators are
 * one kind (H286: `--passwd:x` was printed in full, its name read as `passwd:x`).
 */
const kFlag = /^--?([^=:\s]+)(?:([ \t]*[=:][ \t]*|[ \t]+)(.*))?$/s;

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
      out.push(inline);
      if (inline !== arg) hidden++;
      continue;
    }
    const separator = match[2];
    const value = match[3] ?? '';
    // `--passwd: x` (two arguments) has its value in the next one, as `--passwd x` has.
    if (separator !== undefined && (value !== '' || separator.includes('='))) {
      out.push(`${arg.slice(0, arg.length - separator.length - value.length)}${separator}${kHiddenValue}`);
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
