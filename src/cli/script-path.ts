/**
 * Where `clusterkit run <script> --cwd <dir>` finds a relative script: in `--cwd` first, as PM2
 * does (its `Common.prepareAppConf` resolves `path.resolve(cwd, app.script)`, so
 * `pm2 start app.js --cwd /srv/api` runs /srv/api/app.js), then in the directory the command was
 * typed in, so `run app/server.js --cwd app` keeps working. Without `--cwd` both are the same
 * directory. A config app's script is relative to the app's `cwd` (check-config.ts).
 */
import { isFile, pathExists, unreachableWhy } from '../file-kind.js';
import { isAbsolute, resolve } from 'node:path';
import { commandScriptHint } from './command-script-hint.js';
import { UsageError } from './usage-error.js';
import { canRunTypeScript, cliWorkerNodeOptions, siblingNames } from '../typescript-sibling.js';

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
 * The script, or, for a missing `.js` (`.mjs`, `.cjs`, `.jsx`) one, its TypeScript sibling
 * (`server.ts`) when the workers load TypeScript: clusterkit's own Node options, `nodeArgs`
 * (--node-arg) or NODE_OPTIONS name a loader (H380).
 */
export function findRunnableScript(script: string, cwd: string | undefined, invocationDir: string, nodeArgs: readonly string[] | undefined): string | undefined {
  const found = findScript(script, cwd, invocationDir);
  // Only when a candidate is missing: a directory of that name is said to be one.
  if (found !== undefined || scriptCandidates(script, cwd, invocationDir).every(pathExists)) return found;
  const sibling = findSibling(script, cwd, invocationDir);
  return sibling !== undefined && canRunTypeScript(sibling, cliWorkerNodeOptions(nodeArgs)) ? sibling : undefined;
}

/** The first TypeScript sibling of `script` found, as findScript finds it. */
function findSibling(script: string, cwd: string | undefined, invocationDir: string): string | undefined {
  for (const name of siblingNames(script)) {
    const found = findScript(name, cwd, invocationDir);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What to do about a missing `.js` script whose TypeScript sibling is there (no loader: else it was run), or ''. */
function siblingHint(script: string, cwd: string | undefined, invocationDir: string): string {
  const sibling = findSibling(script, cwd, invocationDir);
  return sibling === undefined ? '' : `. ${sibling} exists: run it with a TypeScript loader (--node-arg=--import=tsx), or build it and point at the built file`;
}

/**
 * "Script not found", naming every path tried and, for a relative path, what it was relative to;
 * `args` are the script's (they complete a command's hint: `npx next start`).
 */
export function scriptNotFound(script: string, cwd: string | undefined, invocationDir: string, args: readonly string[] = []): UsageError {
  const [first, second] = scriptCandidates(script, cwd, invocationDir);
  // A path that cannot be reached is no missing script (hostile t58: a loop of links read "Script not found").
  for (const candidate of [first!, ...(second === undefined ? [] : [second])]) {
    const why = unreachableWhy(candidate);
    if (why !== undefined) return new UsageError(`The script ${candidate} cannot be reached: ${why}; point it at the file your workers run.`, 'run');
  }
  if (second !== undefined) {
    return new UsageError(`Script not found: ${first} (relative to --cwd ${cwd}), nor ${second} (relative to the current directory)${siblingHint(script, cwd, invocationDir)}.`, 'run');
  }
  const hint = isAbsolute(script) ? '' : cwd === undefined ? ' (relative to the current directory; with --cwd <dir>, to that directory first)' : ` (relative to --cwd ${cwd})`;
  const sibling = siblingHint(script, cwd, invocationDir);
  return new UsageError(`Script not found: ${first}${hint}${sibling === '' ? commandScriptHint(script, args, cwd ?? invocationDir) || '.' : `${sibling}.`}`, 'run');
}

