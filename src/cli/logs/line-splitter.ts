/**
 * Splitting a worker's output into lines, with a bound: a worker is untrusted, and one that
 * writes a gigabyte without a newline must not make the primary hold a gigabyte. A line longer
 * than `kMaxLineChars` is cut into pieces of that size, each marked `partial` but the last
 * (as Docker's log drivers do at 16 KiB). Pure: no I/O.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longest line kept in one piece (characters). */
export const kMaxLineChars = 16 * 1024;

export interface OutputLine {
  readonly text: string;
  /** The line went on: the next piece continues it. */
  readonly partial: boolean;
}

export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #maxChars: number;
  /** The start of a line whose newline has not arrived; at most `#maxChars` long. */
  #pending = '';

  constructor(maxChars = kMaxLineChars) {
    this.#maxChars = maxChars;
  }

  /** The complete lines (and full-size pieces) in `chunk`; the rest waits for more. */
  push(chunk: Buffer | string): OutputLine[] {
    const text = this.#pending + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const lines: OutputLine[] = [];
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      this.#cut(text, start, end, lines, true);
      start = newline + 1;
    }
    this.#pending = this.#cut(text, start, text.length, lines, false);
    return lines;
  }

  /** What is left once the stream ended. */
  end(): OutputLine[] {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = '';
    if (rest === '') return [];
    const lines: OutputLine[] = [];
    this.#cut(rest, 0, rest.length, lines, true);
    return lines;
  }

  /**
   * Emits `text[start, end)` in pieces of `#maxChars`. A complete line emits its last piece too;
   * otherwise the last piece (at most the maximum) is returned to wait for its newline.
   */
  #cut(text: string, start: number, end: number, into: OutputLine[], isComplete: boolean): string {
    let from = start;
    while (end - from > this.#maxChars) {
      let to = from + this.#maxChars;
      // Never split a surrogate pair: the halves would each be invalid.
      if (isHighSurrogate(text.charCodeAt(to - 1))) to--;
      into.push({ text: text.slice(from, to), partial: true });
      from = to;
    }
    if (!isComplete) return text.slice(from, end);
    into.push({ text: text.slice(from, end), partial: false });
    return '';
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
