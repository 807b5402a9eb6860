/**
 * Making a worker's line safe to print on a terminal. A worker is untrusted, and its output
 * reaches the terminal of whoever runs `clusterkit logs`: escape sequences could retitle the
 * window, rewrite the clipboard (OSC 52), move the cursor over earlier lines, or hide text
 * (a carriage return, bidirectional overrides). Every control character becomes a visible
 * escape (`\x1b`); color sequences (SGR, `ESC [ ... m`) are kept on a color terminal and
 * removed otherwise, so colored logs stay colored and files stay plain.
 */

// SGR sequences, then single control characters: C0 but tab, DEL, C1, and the Unicode
// bidirectional controls (U+202A-U+202E, U+2066-U+2069) that reorder what is shown.
// eslint-disable-next-line no-control-regex
const kUnsafe = /\x1b\[[0-9;:]{0,64}m|[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

export function sanitizeLine(line: string, keepColors: boolean): string {
  let hasColor = false;
  const safe = line.replace(kUnsafe, (match) => {
    if (match.length > 1) {
      // Conceal (SGR 8) hides text: dropped, colors or not (H534).
      if (!keepColors || isConcealing(match)) return '';
      hasColor = true;
      return match;
    }
    const code = match.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
  // A line's colors end with it (H534, hostile retest t55: a color never reset, black on black,
  // went on over every later line, the primary's own and a FATAL one included).
  return hasColor ? `${safe}\x1b[0m` : safe;
}

/** Whether an SGR sequence turns on conceal (8); the color arguments of 38, 48 and 58 (`5;n`, `2;r;g;b`) are skipped, not read as attributes. */
function isConcealing(sequence: string): boolean {
  const parameters = sequence.slice(2, -1).split(/[;:]/);
  for (let index = 0; index < parameters.length; index++) {
    const parameter = parameters[index];
    if (parameter === '38' || parameter === '48' || parameter === '58') {
      index += parameters[index + 1] === '5' ? 2 : parameters[index + 1] === '2' ? 4 : 0;
      continue;
    }
    if (parameter !== undefined && parameter !== '' && Number(parameter) === 8) return true;
  }
  return false;
}

/** Colors on stdout: a terminal, and neither NO_COLOR nor TERM=dumb (https://no-color.org). */
export function supportsColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}
