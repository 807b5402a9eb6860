/**
 * Timestamps on the text log lines of `clusterkit run` (`--time`, `time: true`; the format from
 * `--time-format` / `timeFormat`, PM2's `log_date_format`): every line, the primary's and each
 * worker's, starts with the time it was written, `2024-06-10T14:03:05.123+02:00 [api:1] ...`,
 * on the terminal and in the log files alike.
 *
 * The format takes the common tokens of moment and dayjs (which PM2's `log_date_format` uses):
 * YYYY YY M MM MMM MMMM D DD Do d dd ddd dddd H HH h hh m mm s ss SSS Z ZZ A a X x, with the
 * names of months and days in English, as moment's default locale writes them (H410); text in
 * square brackets is kept as it is (`[at] HH:mm`), and so is any other character that is no
 * token letter (`-`, `:`, `T`, a space). A token it does not know (`Q`, `wo`, `LLLL`) is
 * refused by name: a line stamped with garbage is worse than one without. Local time, as
 * moment's and dayjs's.
 * Pure: no I/O.
 */
import { UsageError } from '../usage-error.js';

/**
 * `time: true` alone: ISO 8601 in local time with milliseconds and the offset. PM2's
 * `time: true` writes `YYYY-MM-DDTHH:mm:ss` (no milliseconds, no zone); with the offset, lines of
 * machines in other zones, or written across a DST change, can be put in one order.
 */
export const kDefaultTimeFormat = 'YYYY-MM-DDTHH:mm:ss.SSSZ';

/** The letters moment and dayjs read as tokens: a run of one the formatter does not know is refused. */
const kTokenLetters = new Set('YyMDdHhkmsSAaZXxQWwEeGgLlNo');

type Part = (date: Date) => string;

/** Longest format taken: it starts every line. */
const kMaxFormatChars = 100;

const pad2 = (value: number) => (value < 10 ? `0${value}` : String(value));

function offset(date: Date, separator: string): string {
  const minutes = -date.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}${separator}${pad2(abs % 60)}`;
}

const kMonths = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const kDays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** `1st`, `2nd`, `3rd`, `4th`, `11th`, `22nd`: moment's English ordinal. */
function ordinal(value: number): string {
  const tens = value % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][value % 10] ?? 'th');
  return `${value}${suffix}`;
}

const kTokens: Readonly<Record<string, Part>> = {
  YYYY: (date) => String(date.getFullYear()).padStart(4, '0'),
  YY: (date) => pad2(date.getFullYear() % 100),
  M: (date) => String(date.getMonth() + 1),
  MM: (date) => pad2(date.getMonth() + 1),
  MMM: (date) => kMonths[date.getMonth()]!.slice(0, 3),
  MMMM: (date) => kMonths[date.getMonth()]!,
  D: (date) => String(date.getDate()),
  DD: (date) => pad2(date.getDate()),
  Do: (date) => ordinal(date.getDate()),
  d: (date) => String(date.getDay()),
  dd: (date) => kDays[date.getDay()]!.slice(0, 2),
  ddd: (date) => kDays[date.getDay()]!.slice(0, 3),
  dddd: (date) => kDays[date.getDay()]!,
  H: (date) => String(date.getHours()),
  HH: (date) => pad2(date.getHours()),
  h: (date) => String(date.getHours() % 12 || 12),
  hh: (date) => pad2(date.getHours() % 12 || 12),
  m: (date) => String(date.getMinutes()),
  mm: (date) => pad2(date.getMinutes()),
  s: (date) => String(date.getSeconds()),
  ss: (date) => pad2(date.getSeconds()),
  SSS: (date) => String(date.getMilliseconds()).padStart(3, '0'),
  Z: (date) => offset(date, ':'),
  ZZ: (date) => offset(date, ''),
  A: (date) => (date.getHours() < 12 ? 'AM' : 'PM'),
  a: (date) => (date.getHours() < 12 ? 'am' : 'pm'),
  X: (date) => String(Math.floor(date.getTime() / 1000)),
  x: (date) => String(date.getTime()),
};

/** The tokens taken, for messages. */
export const kTimeTokens = Object.keys(kTokens).join(' ');

/** Formats a time (ms since the epoch) as `format` says; the last one is cached (many lines share a millisecond). */
export type TimeFormatter = (time: number) => string;

/**
 * `format` compiled once. A token it does not know, or an empty format, is a `UsageError`
 * (exit 2) that names the token and `setting` (`--time-format`, `"apps[0].log_date_format"`).
 */
export function compileTimeFormat(format: string, setting: string, command?: string): TimeFormatter {
  if (format.length > kMaxFormatChars || /[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(format)) {
    throw new UsageError(`${setting} must be one line of at most ${kMaxFormatChars} characters, as "YYYY-MM-DD HH:mm:ss Z": each log line starts with it.`, command);
  }
  const parts: Array<string | Part> = [];
  let index = 0;
  while (index < format.length) {
    const char = format[index]!;
    if (char === '[') {
      const close = format.indexOf(']', index + 1);
      if (close === -1) throw new UsageError(`${setting} has a "[" with no "]" (${JSON.stringify(format)}): text in square brackets is written as it is, as in "[at] HH:mm".`, command);
      parts.push(format.slice(index + 1, close));
      index = close + 1;
    } else if (kTokenLetters.has(char)) {
      let end = index + 1;
      while (end < format.length && format[end] === char) end++;
      // moment's ordinal day of the month, the one token of two letters that differ.
      if (char === 'D' && end === index + 1 && format[end] === 'o') end++;
      const token = format.slice(index, end);
      const part = kTokens[token];
      if (part === undefined) {
        throw new UsageError(
          `${setting} has the token "${token}" (in ${JSON.stringify(format)}), which clusterkit does not format; it takes ${kTimeTokens}, with literal text in square brackets ("[at] HH:mm"). For example "YYYY-MM-DD HH:mm:ss Z".`,
          command,
        );
      }
      parts.push(part);
      index = end;
    } else {
      // Literal text up to the next token letter or bracket, in one piece.
      let end = index + 1;
      while (end < format.length && format[end] !== '[' && !kTokenLetters.has(format[end]!)) end++;
      parts.push(format.slice(index, end));
      index = end;
    }
  }
  if (!parts.some((part) => typeof part !== 'string')) {
    throw new UsageError(`${setting} must have at least one date token (${kTimeTokens}), as in "YYYY-MM-DD HH:mm:ss Z". Received ${JSON.stringify(format)}.`, command);
  }
  let lastTime = Number.NaN;
  let lastText = '';
  return (time) => {
    if (time === lastTime) return lastText;
    const date = new Date(time);
    let text = '';
    for (const part of parts) text += typeof part === 'string' ? part : part(date);
    lastTime = time;
    lastText = text;
    return text;
  };
}

/** The prefix of each line, `<time> `, or none when lines are not timestamped. */
export type LinePrefixer = ((time: number) => string) | undefined;

/** `<time> ` for each line when `format` is set. */
export function linePrefixer(format: string | undefined): LinePrefixer {
  if (format === undefined) return undefined;
  const formatted = compileTimeFormat(format, 'the time format');
  return (time) => `${formatted(time)} `;
}

/**
 * The line logger's `stream` option for `stamp`: each line to stderr with its time first; none
 * (the logger's own stderr) without. process.stderr.write is looked up at each line, as the log
 * files' copy replaces it (log-files.ts).
 */
export function timestampedStderr(stamp: LinePrefixer): { stream?: { write(line: string): unknown } } {
  if (stamp === undefined) return {};
  return { stream: { write: (line: string) => process.stderr.write(`${stamp(Date.now())}${line}`) } };
}
