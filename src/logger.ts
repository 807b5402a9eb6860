/**
 * Logging: a pino-compatible interface, and the two loggers clusterkit ships (one readable line
 * per event, or one JSON object per line in pino's format). docs/logging.md describes both.
 */
import { loadOs } from './builtins.js';
import { escapeControlChars, escapeRawInJson } from './control/control-chars.js';
import { describeThrown, isError, readProperty, toReadableError } from './readable-error.js';
import { writeOwnLine } from './line-start.js';
import { checkNoExtraArguments } from './extra-arguments.js';

/** The subset of pino's API clusterkit calls: `logger.info({ workerId: 3 }, 'worker ready')`. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** A level name, as pino names them. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** pino's level numbers: what `level` holds in a JSON line, so pino's tools read it right. */
export const kLogLevels: Readonly<Record<LogLevel, number>> = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });

type Method = keyof Logger;

/** Where a logger writes: each call gets one whole line, newline included. */
export interface LogStream {
  write(line: string): unknown;
}

export interface LineLoggerOptions {
  /** Prefix of every line (`[api] ...`), and `name` in JSON lines. @default 'clusterkit' */
  name?: string;
  /** Lowest level written; `'silent'` writes nothing. @default 'info' */
  level?: LogLevel | 'silent';
  /**
   * Where lines go: anything with `write(line)`: a stream (`fs.createWriteStream(...)`), or a
   * synchronous writer, which keeps the last lines when the process exits at once (a forced
   * stop): `{ write: (line) => fs.appendFileSync('cluster.log', line) }`.
   * @default process.stderr
   */
  stream?: LogStream;
}

/**
 * One readable line per event: `[api] worker 3 ready workerId=3 workerPid=4242 slot=0`.
 * A message or field carries text from workers (an `_init` error's message), so control
 * characters in it are escaped (`\n`, `\r`, `\x1b`, `\u202e`; tabs stay): one call is always
 * one line, and nothing in it moves the cursor, clears the screen or reorders the text.
 */
export function createLineLogger(options: LineLoggerOptions = {}): Logger {
  if (arguments.length > 1) checkNoExtraArguments('createLineLogger()', arguments, ['options']);
  const name = escapeControlChars(options.name ?? 'clusterkit');
  return makeLogger(options, (level, fields, message) => {
    const details = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${escapeControlChars(key)}=${formatField(value)}`)
      .join(' ');
    const tag = level === 'info' ? '' : ` ${level.toUpperCase()}`;
    return `[${name}]${tag} ${escapeControlChars(typeof message === 'string' ? message : describeThrown(message ?? ''))}${details ? ` ${details}` : ''}\n`;
  });
}

/**
 * One JSON object per line, as pino writes them: `level` (pino's numbers: 30 info, 40 warn,
 * 50 error), `time` (ms since the epoch), `pid` and `hostname` of this process, `name`, the
 * fields, `msg`. An error goes under `err` as `{ type, message, code, stack }`, like pino's
 * standard serializer.
 */
export function createJsonLogger(options: LineLoggerOptions = {}): Logger {
  if (arguments.length > 1) checkNoExtraArguments('createJsonLogger()', arguments, ['options']);
  const name = options.name ?? 'clusterkit';
  const host = loadOs().hostname();
  // JSON escapes C0 itself (a line stays a line); the C1 and Unicode controls it leaves raw
  // are escaped too, so the line is safe on a terminal and still the same JSON.
  return makeLogger(options, (level, fields, message) =>
    `${escapeRawInJson(toJsonLine({ level: kLogLevels[level], time: Date.now(), pid: process.pid, hostname: host, name, ...toPlainFields(fields), msg: message }))}\n`,
  );
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function makeLogger(options: LineLoggerOptions, format: (level: Method, fields: object, message?: string) => string): Logger {
  const stream = options.stream ?? process.stderr;
  const level = options.level ?? 'info';
  const threshold = level === 'silent' ? Number.POSITIVE_INFINITY : kLogLevels[level];
  const write = (method: Method) => (fields: object, message?: string) => {
    // On a line of its own when the stream is a worker's, left mid-line by its script (H385).
    if (kLogLevels[method] >= threshold) writeOwnLine(stream, format(method, fields, message));
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function toPlainFields(fields: object): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) plain[key] = isError(value) ? serializeErrorField(toReadableError(value)) : value;
  return plain;
}

/**
 * pino's `stdSerializers.err` shape: JSON.stringify of an Error alone gives `{}`. `error` comes
 * from toReadableError(), so its fields can be read without throwing.
 */
function serializeErrorField(error: Error): Record<string, unknown> {
  const code = readProperty(error, 'code');
  return { type: error.name, message: error.message, ...(code === undefined ? {} : { code }), stack: error.stack };
}

/** The record as JSON; a field JSON cannot write (a BigInt, a cycle, a throwing getter) is described instead. */
function toJsonLine(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch {
    const safe: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) {
      try {
        JSON.stringify(value);
        safe[key] = value;
      } catch {
        safe[key] = describeThrown(value);
      }
    }
    try {
      return JSON.stringify(safe);
    } catch {
      return JSON.stringify({ level: record.level, time: record.time, pid: record.pid, hostname: record.hostname, name: record.name, msg: describeThrown(record.msg) });
    }
  }
}

function formatField(value: unknown): string {
  // The line's message already says what failed; the field names the error, not repeat it.
  if (isError(value)) {
    const error = toReadableError(value);
    const code = readProperty(error, 'code');
    return escapeControlChars(typeof code === 'string' || typeof code === 'number' ? String(code) : error.name);
  }
  // JSON quotes a value with spaces and escapes its C0 characters; the rest are escaped here.
  if (typeof value === 'string') return escapeControlChars(/\s/.test(value) ? JSON.stringify(value) : value);
  return escapeControlChars(describeThrown(value));
}
