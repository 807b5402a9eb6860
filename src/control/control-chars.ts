/**
 * Text read from a control socket ends up on a terminal (`status`, `list`, error messages).
 * Part of it comes from workers (a startup error's message), and a terminal obeys control
 * characters: an escape sequence can retitle the window, write the clipboard (OSC 52), move
 * the cursor over earlier lines; bidirectional overrides reorder what is shown. Every string
 * of an answer has them removed on arrival, so no field can carry one to the screen.
 * (Log lines keep their colors instead: `clusterkit logs` escapes them, see sanitize-line.ts.)
 *
 * The primary's own log lines (src/logger.ts) carry text from workers too (an `_init` error's
 * message): there control characters are escaped instead, visibly (`\n`, `\x1b`), so a line
 * stays one line and says what was sent.
 */

// C0 (tab and newline too: a field is one cell of a table), DEL, C1, and the Unicode controls
// that reorder or hide text: ALM, LRM, RLM, the line and paragraph separators, the embeddings,
// overrides and isolates.
// eslint-disable-next-line no-control-regex
const kControlChars = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// What JSON.stringify leaves raw but a terminal may obey (it escapes C0 itself).
const kRawInJson = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const kRawInJsonTest = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

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
  return escapeRawInJson(JSON.stringify(value, null, space));
}

// What a log line escapes: C0 but tab, DEL, C1, and the Unicode controls above.
// eslint-disable-next-line no-control-regex
const kEscaped = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const kHasEscaped = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * `text` with every control character but tab written as a visible escape: a newline as `\n`,
 * a carriage return as `\r`, others as `\x1b` or `\u202e`. Text from a worker written into a
 * log line then cannot start a forged line (`"\n[api] shutdown complete"`), move the cursor,
 * clear the screen or reorder what is shown. Unchanged (and not copied) when there is none.
 */
export function escapeControlChars(text: string): string {
  if (!kHasEscaped.test(text)) return text;
  return text.replace(kEscaped, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    const code = char.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** A JSON text with the characters JSON leaves raw but a terminal may obey written as `\u` escapes (still the same JSON). */
export function escapeRawInJson(json: string): string {
  return kRawInJsonTest.test(json) ? json.replace(kRawInJson, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
