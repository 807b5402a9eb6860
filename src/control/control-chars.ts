/**
 * Text read from a control socket ends up on a terminal (`status`, `list`, error messages).
 * Part of it comes from workers (a startup error's message), and a terminal obeys control
 * characters: an escape sequence can retitle the window, write the clipboard (OSC 52), move
 * the cursor over earlier lines; bidirectional overrides reorder what is shown. Every string
 * of an answer has them removed on arrival, so no field can carry one to the screen.
 * (Log lines keep their colors instead: `clusterkit logs` escapes them, see sanitize-line.ts.)
 */

// C0 (tab and newline too: a field is one cell of a table), DEL, C1, and the Unicode controls
// that reorder or hide text: ALM, LRM, RLM, the line and paragraph separators, the embeddings,
// overrides and isolates.
// eslint-disable-next-line no-control-regex
const kControlChars = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// What JSON.stringify leaves raw but a terminal may obey (it escapes C0 itself).
const kRawInJson = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function stripControlChars(text: string): string {
  return text.replace(kControlChars, '');
}

/**
 * `JSON.parse` of one answer line, every string value stripped of control characters.
 * @throws SyntaxError for a line that is not JSON, RangeError for one nested too deep.
 */
export function parseStripped(line: string): unknown {
  return JSON.parse(line, (_key, value: unknown) => (typeof value === 'string' ? stripControlChars(value) : value));
}

/**
 * `JSON.stringify` for a terminal: the same JSON, with the characters JSON leaves raw but a
 * terminal may obey written as `\u` escapes (`--json` output of log lines, which keep them).
 */
export function terminalSafeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(kRawInJson, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
