/**
 * The primary's own log lines (worker started, crashed, reload...) into the log buffer too,
 * so `clusterkit logs api` tells what happened around the output, as the `run` terminal does.
 * Each line is recorded as the line logger renders it, whatever `--log-format` prints.
 */
import type { LogEntry } from '../../control/log-protocol.js';
import { createLineLogger, kLogLevels, type Logger } from '../../logger.js';
import { kMaxLineChars } from './line-splitter.js';

type Method = keyof Logger;
const kMethods: readonly Method[] = ['debug', 'info', 'warn', 'error'];

/** A logger that writes through `logger` and records info and above with `record`. */
export function teeLogger(logger: Logger, record: (entry: LogEntry) => void): Logger {
  let fields: object = {};
  let level = kLogLevels.info;
  // The line logger renders into this stream; its `[name]` prefix is added back by readers.
  const capture = {
    write(text: string): boolean {
      const { workerId, slot } = fields as { workerId?: unknown; slot?: unknown };
      const msg = text.replace(/^\[[^\]]*\] ?/, '').replace(/\n$/, '').slice(0, kMaxLineChars);
      // The slot of a line about a worker (or about a slot: a crash loop), for `logs --slot`.
      const about = { ...(typeof workerId === 'number' ? { workerId } : {}), ...(typeof slot === 'number' ? { slot } : {}) };
      record({ time: Date.now(), source: 'primary', ...about, stream: 'stderr', level, msg });
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const renderer = createLineLogger({ name: '', stream: capture, level: 'info' });
  const tee = {} as Logger;
  for (const method of kMethods) {
    tee[method] = (entryFields: object, message?: string) => {
      logger[method](entryFields, message);
      fields = entryFields;
      level = kLogLevels[method];
      renderer[method](entryFields, message);
    };
  }
  return tee;
}
