/**
 * PM2 runs a command found on PATH as its script (`script: 'npm', args: 'start'` in ecosystem
 * files, `pm2 start npm -- start`, `script: 'npx', args: 'next start'`); clusterkit's workers
 * import a Node script, so such a name is a file not found: say what to name instead, quoting
 * the command as it was given, with its arguments (H128).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

const kPackageManagers = new Set(['npm', 'yarn', 'pnpm', 'bun']);
const kCommands = new Set([...kPackageManagers, 'npx', 'node']);

/**
 * Tools that run a script rather than being one (`npx tsx server.ts`): naming the file npx runs
 * would fork that tool as every worker, and the tool starts the script in a Node process of its
 * own, outside the cluster (tester t20: every worker but one then died on EADDRINUSE, for good).
 * What to run instead: the script itself, with clusterkit's equivalent.
 */
const kScriptRunners: Readonly<Record<string, string>> = {
  tsx: '--node-arg=--import=tsx',
  'ts-node': '--node-arg=--require=ts-node/register',
  nodemon: '--watch',
};

/** Longest command line quoted in a hint: a config's args may be long. */
const kMaxQuoted = 160;

/** Whether `script`, as written, is one of the commands PM2 users give as a script (`npm`, `npx`...). */
export function isPathCommand(script: string): boolean {
  return script === basename(script) && kCommands.has(script);
}

/**
 * `: clusterkit runs a Node script...` (a sentence's end) when `script`, as written, is such a
 * command; else ''. `args` are the command's (`['next', 'start']` for `npx next start`); `dir`,
 * where its node_modules is (the app's directory).
 */
export function commandScriptHint(script: string, args: readonly string[] = [], dir?: string): string {
  if (!isPathCommand(script)) return '';
  return `: clusterkit runs a Node script, not a command from PATH. ${whatToName(script, args, dir)}`;
}

function whatToName(command: string, args: readonly string[], dir: string | undefined): string {
  const own = "with that file's own arguments";
  if (command === 'npx') {
    const toolAt = args.findIndex((arg) => !arg.startsWith('-'));
    if (toolAt === -1) return `Name the file "npx <package>" runs (node_modules/.bin/<package> links to it) instead, ${own}.`;
    const tool = args[toolAt]!;
    const toolArgs = args.slice(toolAt + 1);
    const runner = Object.hasOwn(kScriptRunners, basename(tool)) ? kScriptRunners[basename(tool)]! : undefined;
    if (runner !== undefined) return runScriptItself(basename(tool), runner, toolArgs);
    // Only a link that is there: a tool npx would download first has none (tester t20).
    const where = dir !== undefined && /^[\w@./-]+$/.test(tool) && existsSync(join(dir, 'node_modules/.bin', basename(tool))) ? ` (node_modules/.bin/${basename(tool)} links to it)` : '';
    return `Name the file "${commandLine(command, ...args)}" runs${where} instead, ${own}${toolArgs.length > 0 ? ` (${commandLine(...toolArgs)})` : ''}.`;
  }
  if (command === 'node') {
    const file = args.find((arg) => !arg.startsWith('-'));
    return file === undefined ? `Name the file "node <file>" runs instead, ${own}.` : `Name the file "${commandLine(command, ...args)}" runs (${commandLine(file)}) instead, ${own}.`;
  }
  // npm start, npm run dev, yarn dev: a script of package.json (start when none is named).
  const named = args.length === 0 ? ['start'] : args;
  const scriptName = named[0] === 'run' || named[0] === 'run-script' ? named[1] : named[0];
  const where = scriptName !== undefined && /^[\w:.-]+$/.test(scriptName) ? ` (package.json's scripts.${scriptName}: for "node server.js", ./server.js)` : '';
  return `Name the file "${commandLine(command, ...named)}" runs${where} instead, ${own}.`;
}

/** `npx tsx [watch] server.ts --port 3`: run server.ts itself, with the runner's clusterkit equivalent. */
function runScriptItself(tool: string, runner: string, toolArgs: readonly string[]): string {
  // `tsx watch server.ts`, or tsx's `--watch` flag (H143).
  const isWatch = tool === 'tsx' && (toolArgs[0] === 'watch' || toolArgs.includes('--watch'));
  const rest = isWatch ? toolArgs.filter((arg, index) => !(index === 0 && arg === 'watch') && arg !== '--watch') : toolArgs;
  const fileAt = rest.findIndex((arg) => !arg.startsWith('-'));
  const file = fileAt === -1 ? '<script>' : commandLine(rest[fileAt]!);
  const scriptArgs = fileAt === -1 ? [] : rest.slice(fileAt + 1);
  const options = [runner, ...(isWatch ? ['--watch'] : [])].join(' ');
  const line = `clusterkit run ${file} ${options}${scriptArgs.length > 0 ? ` -- ${commandLine(...scriptArgs)}` : ''}`;
  return `${tool} runs a script in a Node process of its own, outside the cluster: run the script itself instead, ${line}.`;
}

/** The words as a shell would take them back, each odd one quoted; cut short when long. */
function commandLine(...words: string[]): string {
  const quoted = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : /[\x00-\x1f\x7f']/.test(word) ? JSON.stringify(word) : `'${word}'`);
  const line = words.map(quoted).join(' ');
  return line.length > kMaxQuoted ? `${line.slice(0, kMaxQuoted - 3)}...` : line;
}
