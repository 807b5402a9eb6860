/**
 * A line logger whose output a test reads: what a user would see on stderr.
 */
import { createLineLogger, type Logger, type LogLevel } from '../../src/index.js';

export function capturedLogger(level: LogLevel = 'debug'): { logger: Logger; text(): string } {
  let text = '';
  const stream = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  return { logger: createLineLogger({ name: 't', stream, level }), text: () => text };
}

/** A logger that keeps each line as `<level> <message>`, for tests that match whole lines. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: object, message?: string) => lines.push(`${level} ${message ?? ''}`);
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}
