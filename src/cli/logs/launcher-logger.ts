/**
 * The own lines of the launcher of several apps (`[clusterkit] starting 3 apps ...`, `app api
 * exited with code 0`), each written in the style of where it goes (H362):
 *
 * - on the terminal, which every app shares: JSON when every app writes JSON; else a text line,
 *   stamped in the time format the apps' text lines share (none when none is stamped), or in the
 *   default format (`YYYY-MM-DDTHH:mm:ss.SSSZ`) when they differ: never one app's format because
 *   it came first;
 * - in each app's combined log (`logFile`, combinedLogFiles), as that app writes its own lines:
 *   a JSON line in a JSON app's file, a text line stamped in its own format, or unstamped, in the
 *   others'. A file shared by apps gets each line once, in the style of the first app naming it.
 *
 * Before, the launcher wrote every line once, in the first stamped app's format, and the log files
 * got copies of it: an app without timestamps, or with JSON lines, found lines stamped in another
 * app's format among its own.
 */
import { createJsonLogger, createLineLogger, kLogLevels, type Logger } from '../../logger.js';
import { kDefaultTimeFormat, linePrefixer, type LinePrefixer } from './line-time.js';
import { writingWithoutFileCopy, type LogFiles } from './log-files.js';

/** How an app writes its own lines: JSON lines, or text lines stamped with `timeFormat` (none: unstamped). */
export interface LineStyle {
  readonly logFormat: 'line' | 'json';
  readonly timeFormat: string | undefined;
}

/** The style of the launcher's lines on the terminal, where the lines of every app meet (see above). */
export function launcherTerminalStyle(apps: readonly LineStyle[]): LineStyle {
  const lines = apps.filter((app) => app.logFormat === 'line');
  if (lines.length === 0) return { logFormat: 'json', timeFormat: undefined };
  const formats = new Set(lines.map((app) => app.timeFormat));
  return { logFormat: 'line', timeFormat: formats.size === 1 ? lines[0]!.timeFormat : kDefaultTimeFormat };
}

/**
 * The launcher's logger: each line to stderr in the `terminal` style (not copied to the log files
 * by `teeProcessOutput`), and to each of `files()` (the combined logs) in `styleOf(path)`, the
 * style of the app whose file it is (`path`: the name it was first given). A line has one time
 * in every text rendering.
 */
export function launcherLogger(terminal: LineStyle, files: () => LogFiles | undefined, styleOf: (path: string) => LineStyle): Logger {
  let captured = '';
  const capture = { write: (text: string) => (captured = text) };
  const renderers = { line: createLineLogger({ name: 'clusterkit', stream: capture }), json: createJsonLogger({ name: 'clusterkit', stream: capture }) };
  const stamps = new Map<string | undefined, LinePrefixer>();
  const stampOf = (format: string | undefined): LinePrefixer => {
    if (!stamps.has(format)) stamps.set(format, linePrefixer(format));
    return stamps.get(format);
  };
  const logger = {} as Logger;
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    logger[method] = (fields: object, message?: string) => {
      // The renderers' level (info): a debug line is written nowhere.
      if (kLogLevels[method] < kLogLevels.info) return;
      const time = Date.now();
      const texts = new Map<LineStyle['logFormat'], string>();
      const render = (style: LineStyle): string => {
        let text = texts.get(style.logFormat);
        if (text === undefined) {
          captured = '';
          renderers[style.logFormat][method](fields, message);
          text = captured;
          texts.set(style.logFormat, text);
        }
        return style.logFormat === 'json' ? text : `${stampOf(style.timeFormat)?.(time) ?? ''}${text}`;
      };
      writingWithoutFileCopy(() => process.stderr.write(render(terminal)));
      files()?.writeEach((path) => render(styleOf(path)));
    };
  }
  return logger;
}
