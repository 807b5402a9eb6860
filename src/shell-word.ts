/**
 * A word as a POSIX shell takes it back, for a command a message tells the user to run:
 * `debug.txt` and `api` as they are, `'Billing API'` or `'it'\''s'` in single quotes (H260).
 */
export function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
