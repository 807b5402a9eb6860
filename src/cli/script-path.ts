/**
 * Where `clusterkit run <script> --cwd <dir>` finds a relative script: in `--cwd` first, as PM2
 * does (its `Common.prepareAppConf` resolves `path.resolve(cwd, app.script)`, so
 * `pm2 start app.js --cwd /srv/api` runs /srv/api/app.js), then in the directory the command was
 * typed in, so `run app/server.js --cwd app` keeps working. Without `--cwd` both are the same
 * directory. A config app's script is relative to the app's `cwd` (check-config.ts).
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { commandScriptHint } from './command-script-hint.js';
import { UsageError } from './usage-error.js';

/** The candidate paths of `script`, in the order they are tried (one or two). */
export function scriptCandidates(script: string, cwd: string | undefined, invocationDir: string): string[] {
  if (isAbsolute(script) || cwd === undefined) return [resolve(invocationDir, script)];
  const inCwd = resolve(cwd, script);
  const inInvocationDir = resolve(invocationDir, script);
  return inCwd === inInvocationDir ? [inCwd] : [inCwd, inInvocationDir];
}

/** The first candidate that is a file, or undefined. */
export function findScript(script: string, cwd: string | undefined, invocationDir: string): string | undefined {
  return scriptCandidates(script, cwd, invocationDir).find(isFile);
}

/**
 * "Script not found", naming every path tried and, for a relative path, what it was relative to;
 * `args` are the script's (they complete a command's hint: `npx next start`).
 */
export function scriptNotFound(script: string, cwd: string | undefined, invocationDir: string, args: readonly string[] = []): UsageError {
  const [first, second] = scriptCandidates(script, cwd, invocationDir);
  if (second !== undefined) {
    return new UsageError(`Script not found: ${first} (relative to --cwd ${cwd}), nor ${second} (relative to the current directory).`, 'run');
  }
  const hint = isAbsolute(script) ? '' : cwd === undefined ? ' (relative to the current directory; with --cwd <dir>, to that directory first)' : ` (relative to --cwd ${cwd})`;
  return new UsageError(`Script not found: ${first}${hint}${commandScriptHint(script, args, cwd ?? invocationDir) || '.'}`, 'run');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
