/**
 * Where a config file's syntax error is, as `line:column`, so the message points at it.
 *
 * - TypeScript (jiti): the message's last line is ` /path/clusterkit.config.ts:3:16`.
 * - JavaScript: Node keeps the location of a SyntaxError out of its message and stack (it prints
 *   it only for an uncaught one), so `node --check <file>` is asked: it prints `<file>:3`, the
 *   line, and carets under the token. That costs a process start (about 40 ms), paid only after
 *   a SyntaxError.
 */
import { spawnSync } from 'node:child_process';
import { dirname, extname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProperty } from '../../readable-error.js';

export interface SourceLocation {
  readonly line: number;
  readonly column: number;
}

const kTypeScript = new Set(['.ts', '.mts', '.cts']);
const kJavaScript = new Set(['.js', '.mjs', '.cjs']);

/** The location of the syntax error `error` in `path`, or undefined when there is none to tell. */
export function syntaxErrorLocation(error: unknown, path: string): SourceLocation | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const message = readProperty(error, 'message');
  if (typeof message !== 'string') return undefined;
  const extension = extname(path);
  if (kTypeScript.has(extension)) return fromJitiMessage(message, path);
  if (kJavaScript.has(extension) && readProperty(error, 'name') === 'SyntaxError') return fromNodeCheck(path);
  return undefined;
}

/** The message without jiti's location line (which `syntaxErrorLocation` reads). */
export function withoutLocationLine(message: string, path: string): string {
  return message
    .split('\n')
    .filter((line) => !line.trim().startsWith(`${path}:`))
    .join('\n')
    .trim();
}

function fromJitiMessage(message: string, path: string): SourceLocation | undefined {
  for (const line of message.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith(`${path}:`)) continue;
    const match = /^(\d+):(\d+)$/.exec(trimmed.slice(path.length + 1));
    if (match) return { line: Number(match[1]), column: Number(match[2]) };
  }
  return undefined;
}

function fromNodeCheck(path: string): SourceLocation | undefined {
  const check = spawnSync(process.execPath, ['--check', path], { encoding: 'utf8', timeout: 5_000, env: { ...process.env, NODE_OPTIONS: '' } });
  const lines = (check.stderr ?? '').split('\n');
  const at = lines.findIndex((line) => line.startsWith(`${path}:`));
  const lineNumber = at === -1 ? Number.NaN : Number(lines[at]!.slice(path.length + 1));
  if (!Number.isSafeInteger(lineNumber) || lineNumber < 1) return undefined;
  // The carets sit under the token, two lines down: their offset is the column (1-based).
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return { line: lineNumber, column: caret === -1 ? 1 : caret + 1 };
}

/** Where a config file's throw came from: the file (the config or one it imports) and the place in it. */
export interface ThrowLocation extends SourceLocation {
  readonly file: string;
}

/**
 * Where a value thrown while `path` loaded was thrown (H326), from the error's stack: the first
 * frame in the config file, and the first frame of the project when that is above it (a file
 * the config imports, `./lib/secrets.ts`: `thrownIn`); frames of Node, of `node_modules` (jiti,
 * a library) and outside the config's directory (clusterkit's own) are passed over. Undefined
 * when the stack names neither (a thrown string, a stack rewritten).
 */
export function throwLocation(error: unknown, path: string): { config?: SourceLocation; thrownIn?: ThrowLocation } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const stack = readProperty(error, 'stack');
  if (typeof stack !== 'string') return undefined;
  const directory = dirname(path);
  let thrownIn: ThrowLocation | undefined;
  for (const line of stack.split('\n')) {
    const frame = frameOf(line);
    if (frame === undefined) continue;
    if (frame.file === path) return { config: { line: frame.line, column: frame.column }, ...(thrownIn === undefined ? {} : { thrownIn }) };
    const below = relative(directory, frame.file);
    const isProject = below !== '' && !below.startsWith('..') && !isAbsolute(below) && !below.split(sep).includes('node_modules');
    if (isProject) thrownIn ??= frame;
  }
  return thrownIn === undefined ? undefined : { thrownIn };
}

/** A stack line's file (a path; `file:` URLs read as paths), line and column; undefined for Node's own and the rest. */
function frameOf(line: string): ThrowLocation | undefined {
  const match = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/.exec(line);
  if (!match) return undefined;
  let file = match[1]!;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      return undefined;
    }
  }
  if (!isAbsolute(file)) return undefined;
  return { file, line: Number(match[2]), column: Number(match[3]) };
}
