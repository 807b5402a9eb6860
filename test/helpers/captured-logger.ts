/**
 * A line logger whose output a test reads: what a user would see on stderr.
 */
import { createLineLogger, type Logger, type LogLevel } from '../../src/index.js';

export function capturedLogger(level: LogLevel = 'debug'): { logger: Logger; text(): string } {
  let text = '';
  const stream = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  return { logger: createLineLogger({ name: 't', stream, level }), text: () => text };
}
