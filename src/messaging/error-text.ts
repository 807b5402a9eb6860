/**
 * The bounds of an error's texts as it crosses IPC (H330), shared by the side that flattens an
 * error (serialize-error.ts) and the side that revives its cause chain (remote-cause.ts).
 */

/** Longest `message` (a thrown string's included) and `stack`, in characters (UTF-16 units). */
export const kMaxErrorTextChars = 64 * 1024;
/** Longest `name` and `code`, in characters. */
export const kMaxErrorNameChars = 256;

/**
 * `text` when it has at most `max` characters, else its start and what was cut, `max`
 * characters in all: `EEE… (9000000 characters, cut to 65536)`. A text cut before (a relayed
 * error, an error reply fit to a small `maxMessageBytes`) keeps its first length. Never ends
 * on half a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const earlier = kCutSuffix.exec(text);
  const length = earlier ? Number(earlier[1]) : text.length;
  const suffix = `… (${length} characters, cut to ${max})`;
  return `${sliceWhole(earlier ? text.slice(0, earlier.index) : text, 0, Math.max(0, max - suffix.length))}${suffix}`;
}

/** The end cutText() gives a text it cut. */
const kCutSuffix = /… \((\d+) characters, cut to \d+\)$/;

/**
 * A stack of more than 64 KiB (most often one that repeats a huge message): its start and its
 * end, with what was cut between them, 64 KiB in all, so that the frames at its end survive.
 */
export function cutStack(stack: string): string {
  if (stack.length <= kMaxErrorTextChars) return stack;
  const mark = `\n… (${stack.length} characters, cut to ${kMaxErrorTextChars}) …\n`;
  const half = Math.floor((kMaxErrorTextChars - mark.length) / 2);
  return `${sliceWhole(stack, 0, half)}${mark}${sliceWhole(stack, stack.length - half, stack.length)}`;
}

/** `text.slice(start, end)` without a half surrogate pair at either end. */
function sliceWhole(text: string, start: number, end: number): string {
  if (start > 0 && isLowSurrogate(text.charCodeAt(start))) start++;
  if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end--;
  return text.slice(start, end);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
