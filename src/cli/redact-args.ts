/**
 * `show` hides env values; a secret passed as an argument (`--password s3cret`, a Node
 * `--auth-token=...`) was printed in full in the same output, text and `--json` (H236). The
 * value of a flag whose name looks secret is replaced, in both forms: `--flag=value` and
 * `--flag value` (the next argument, unless it is a flag itself: `--token --verbose`). Also, in
 * any argument, the password of a URL (`postgres://admin:s3cret@db` keeps `admin`) and the value
 * of a `NAME=value` whose name looks secret (`DB_PASSWORD=s3cret`). A flag naming where a secret
 * is (`--token-file /run/token`, `--key-path`) is no secret itself: kept (retester t25).
 */

/** What replaces a hidden value. */
export const kHiddenValue = '<hidden>';

/** Flag names that carry secrets, matched anywhere in the name: `--db-password`, `--apiKey`. */
const kSecretName = /pass(?:word|wd)?|pwd|secret|token|key|auth|bearer|credential/i;

/** Names that say where a secret is, not what: `--token-file`, `--key-path`, `--secret-dir`. */
const kLocationName = /(?:file|path|dir|name|id)$/i;

/** A URL's `user:password@`: the password is replaced, the user kept. */
const kUrlPassword = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]+@/gi;

/** `NAME=value` (no leading dash): an env-style assignment passed as an argument. */
const kAssignment = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

function isSecretName(name: string): boolean {
  return kSecretName.test(name) && !kLocationName.test(name);
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

/** `args` with the values of secret-looking flags replaced; anything but a string is kept as it is. */
export function redactArgs(args: readonly unknown[]): { args: unknown[]; hidden: number } {
  const out: unknown[] = [];
  let hidden = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const match = typeof arg === 'string' ? kFlag.exec(arg) : null;
    if (match === null || !isSecretName(match[1]!)) {
      if (typeof arg !== 'string') {
        out.push(arg);
        continue;
      }
      const inline = redactInline(arg);
      out.push(inline.text);
      if (inline.isHidden) hidden++;
      continue;
    }
    if (match[2] !== undefined) {
      out.push(`${(arg as string).slice(0, -match[2].length)}=${kHiddenValue}`);
      hidden++;
      continue;
    }
    out.push(arg);
    const next = args[i + 1];
    if (typeof next === 'string' && !next.startsWith('--')) {
      out.push(kHiddenValue);
      hidden++;
      i++;
    }
  }
  return { args: out, hidden };
}
