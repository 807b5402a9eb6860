/**
 * `show` hides env values; a secret passed as an argument (`--password s3cret`, a Node
 * `--auth-token=...`) was printed in full in the same output, text and `--json` (H236). The
 * value of a flag whose name looks secret is replaced, in both forms: `--flag=value` and
 * `--flag value` (the next argument, unless it is a flag itself: `--token --verbose`).
 */

/** What replaces a hidden value. */
export const kHiddenValue = '<hidden>';

/** Flag names that carry secrets, matched anywhere in the name: `--db-password`, `--apiKey`. */
const kSecretName = /pass(?:word|wd)?|secret|token|key|auth|credential/i;

/** A flag, its name and its `=value` part: `--password=x`, `-token`. */
const kFlag = /^--?([^=\s]+)(=.*)?$/s;

/** `args` with the values of secret-looking flags replaced; anything but a string is kept as it is. */
export function redactArgs(args: readonly unknown[]): { args: unknown[]; hidden: number } {
  const out: unknown[] = [];
  let hidden = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const match = typeof arg === 'string' ? kFlag.exec(arg) : null;
    if (match === null || !kSecretName.test(match[1]!)) {
      out.push(arg);
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
