/**
 * A word as a POSIX shell takes it back, for a command a message tells the user to run:
 * `debug.txt` and `api` as they are, `'Billing API'` or `'it'\''s'` in single quotes (H260).
 * A word with control characters (a newline, an ESC) is written in ANSI-C quotes,
 * `$'line1\nfake row'` (bash, zsh, ksh, POSIX.1-2024 sh): it stays on one line, the terminal
 * obeys nothing in it, and it still gives the very word back (H279).
 */
export function shellWord(word: string): string {
  if (/^[\w./@%+=:,-]+$/.test(word)) return word;
  if (!kControl.test(word)) return `'${word.replace(/'/g, `'\\''`)}'`;
  return `$'${word.replace(kAnsiC, ansiCEscape)}'`;
}

// C0, DEL, C1, and the Unicode controls that reorder or hide text (control-chars.ts's set).
// eslint-disable-next-line no-control-regex
const kControl = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const kAnsiC = /[\\'\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const kNamed: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

function ansiCEscape(char: string): string {
  const named = kNamed[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
}
