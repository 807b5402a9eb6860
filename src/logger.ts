/**
 * Logging: a pino-compatible interface, and the two loggers clusterkit ships (one readable line
 * per event, or one JSON object per line).
 */
import { describeThrown, isError, readProperty, toReadableError } from './readable-error.js';

/** The subset of pino's API clusterkit calls: `logger.info({ workerId: 3 }, 'worker ready')`. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const kLevels: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LineLoggerOptions {
  /** Prefix of every line. @default 'clusterkit' */
  name?: string;
  /** Lowest level written. @default 'info' */
  level?: Level;
  /** Where lines go. @default process.stderr */
  stream?: NodeJS.WritableStream;
}

/** One readable line per event: `[api] worker 3 ready pid=4242`. */
export function createLineLogger(options: LineLoggerOptions = {}): Logger {
  const name = options.name ?? 'clusterkit';
  return makeLogger(options, (level, fields, message) => {
    const details = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${formatField(value)}`)
      .join(' ');
    const tag = level === 'info' ? '' : ` ${level.toUpperCase()}`;
    return `[${name}]${tag} ${message ?? ''}${details ? ` ${details}` : ''}\n`;
  });
}

/** One JSON object per line, pino-style (`level`, `time`, `name`, `msg`, fields). */
export function createJsonLogger(options: LineLoggerOptions = {}): Logger {
  const name = options.name ?? 'clusterkit';
  return makeLogger(options, (level, fields, message) =>
    `${toJsonLine({ level: kLevels[level], time: Date.now(), name, msg: message, ...toPlainFields(fields) })}\n`,
  );
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function makeLogger(options: LineLoggerOptions, format: (level: Level, fields: object, message?: string) => string): Logger {
  const stream = options.stream ?? process.stderr;
  const threshold = kLevels[options.level ?? 'info'];
  const write = (level: Level) => (fields: object, message?: string) => {
    if (kLevels[level] >= threshold) stream.write(format(level, fields, message));
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

function toPlainFields(fields: object): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!isError(value)) plain[key] = value;
    else {
      const error = toReadableError(value);
      plain[key] = { name: error.name, message: error.message, code: readProperty(error, 'code') };
    }
  }
  return plain;
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
      return JSON.stringify({ level: record.level, time: record.time, name: record.name, msg: describeThrown(record.msg) });
    }
  }
}

function formatField(value: unknown): string {
  // The line's message already says what failed; the field names the error, not repeat it.
  if (isError(value)) {
    const error = toReadableError(value);
    const code = readProperty(error, 'code');
    return typeof code === 'string' || typeof code === 'number' ? String(code) : error.name;
  }
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return describeThrown(value);
}
