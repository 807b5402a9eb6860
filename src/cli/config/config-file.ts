/**
 * Finding and loading `clusterkit.config.{ts,mjs,js,cjs,json}`. JavaScript files are imported
 * natively (CommonJS through Node's interop); TypeScript files through jiti, a runtime
 * dependency: the loader ESLint, Tailwind and Nuxt use for their own TypeScript configs. It is
 * plain JavaScript (no native binary, no child process, no global loader hooks left behind) and
 * imports the config's own dependencies (`clusterkit` itself) natively. It is imported only
 * when a `.ts` config is loaded, so other commands never pay for it.
 */
import { closeSync, existsSync, lstatSync, openSync, readSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { repeatedKey } from '../../control/repeated-key.js';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kindOf } from '../../file-kind.js';
import { notUtf8Message, readSmallFile, utf16Evidence } from '../read-small-file.js';
import { UsageError } from '../usage-error.js';
import { describeError } from '../../readable-error.js';
import { syntaxErrorLocation, throwLocation, withoutLocationLine } from './syntax-error-location.js';
import { importModule, importNamespace } from '../../import-module.js';
import { isCommonJsFormat } from '../../module-format.js';

/** Looked for in this order in the working directory. */
export const kConfigFileNames = ['clusterkit.config.ts', 'clusterkit.config.mjs', 'clusterkit.config.js', 'clusterkit.config.cjs', 'clusterkit.config.json'] as const;
const kTypeScript = new Set(['.ts', '.mts', '.cts']);
const kLoadable = new Set([...kTypeScript, '.mjs', '.js', '.cjs', '.json']);
/** A JSON config is data; anything larger is not a config. */
const kMaxJsonBytes = 1024 * 1024;

/**
 * The endings that make a file named on the command line a config file rather than a script
 * (`clusterkit run ecosystem.config.cjs`), as `pm2 start <file>` decides: PM2's
 * `Common.isConfigFile` (lib/Common.js) takes a name containing `.json`, `.yml`, `.yaml`,
 * `.config.js`, `.config.cjs` or `.config.mjs` as a config. Here the TypeScript endings that
 * clusterkit loads are added, and only the end of the file's name counts (PM2 looks anywhere
 * in the path, so it reads /srv/app.json.d/server.js as a config). No script is named so: a
 * JSON or YAML file is not one, and `*.config.js` is the convention of tools' config files.
 */
const kConfigNameEndings = ['.config.ts', '.config.mts', '.config.cts', '.config.mjs', '.config.js', '.config.cjs', '.json'] as const;
/** PM2 reads YAML configs; clusterkit does not. */
const kYamlEndings = ['.yml', '.yaml'] as const;

/**
 * What the name of `path` says it is: a config file with this ending (`.config.cjs`), a YAML
 * config (which clusterkit cannot read), or neither (a script).
 */
export function configNameOf(path: string): { kind: 'config' | 'yaml'; ending: string } | undefined {
  const name = basename(path);
  const ending = kConfigNameEndings.find((candidate) => name.endsWith(candidate));
  if (ending !== undefined) return { kind: 'config', ending };
  const yaml = kYamlEndings.find((candidate) => name.endsWith(candidate));
  return yaml === undefined ? undefined : { kind: 'yaml', ending: yaml };
}

/** The config file in `directory`, if there is one. Two of them is an error: which one counts would be a guess. */
export function findConfigFile(directory: string): string | undefined {
  // A link to nothing (or a loop of links) is the user's config file all the same: said, not
  // taken for no config at all (hostile t60: "put a clusterkit.config.ts in ...").
  const found = kConfigFileNames.map((name) => join(directory, name)).filter((path) => existsSync(path) || brokenLinkOf(path) !== undefined);
  if (found.length > 1) {
    throw new UsageError(`${directory} has ${found.length} config files (${found.map((path) => path.slice(directory.length + 1)).join(', ')}); keep one, or choose with --config.`, 'run');
  }
  return found[0] === undefined ? undefined : checkConfigPath(found[0]);
}

/** `to /gone.json, which does not exist` or `in a loop of links` for a symbolic link that leads nowhere; undefined otherwise. */
function brokenLinkOf(path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
  } catch {
    return undefined;
  }
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return 'in a loop of links';
    let target = '';
    try {
      target = readlinkSync(path);
    } catch {
      // said without it
    }
    return `to ${target === '' ? 'a path' : JSON.stringify(target)}, which does not exist`;
  }
}

/**
 * Checks a `--config` path: an existing file with a loadable extension. `typed`: the value as
 * typed, for the hint of PM2's `-c` (its `--cron`, H492).
 */
export function checkConfigPath(path: string, typed = path): string {
  let stats: Stats | undefined;
  try {
    stats = statSync(path);
  } catch {
    // reported below
  }
  if (!stats) {
    const broken = brokenLinkOf(path);
    if (broken !== undefined) throw new UsageError(`The config file ${path} is a symbolic link ${broken}; point it at the config file, or remove it.`, 'run');
    throw new UsageError(`Config file not found: ${path}${looksLikeCron(typed) ? pm2CronHint(typed) : ''}`, 'run');
  }
  if (!stats.isFile()) throw new UsageError(`The config file ${path} is not a regular file (it is ${kindOf(stats)}).`, 'run');
  if (!kLoadable.has(extname(path))) throw new UsageError(`--config must be a .ts, .mts, .cts, .mjs, .js, .cjs or .json file. Received ${path}.`, 'run');
  return path;
}

/**
 * The file's default export (or `module.exports`, or the JSON value), not yet checked, loaded
 * in this thread with no deadline (config-loader.ts runs it in a process of its own, with one).
 * @throws UsageError when it cannot be loaded.
 */
export function loadConfigFile(path: string): Promise<unknown> {
  return load(path);
}

async function load(path: string): Promise<unknown> {
  const extension = extname(path);
  // A FIFO named clusterkit.config.mjs would hold import() forever.
  const stats = statSync(path);
  if (!stats.isFile()) throw new UsageError(`The config file ${path} is not a regular file (it is ${kindOf(stats)}).`, 'run');
  try {
    if (extension === '.json') return loadJson(path);
    if (kTypeScript.has(extension)) return await loadTypeScript(path);
    const { namespace } = await importNamespace<{ default?: unknown }>(pathToFileURL(path).href, isCommonJsFormat(path));
    return await defaultExport(namespace, path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // A JavaScript or TypeScript file saved as UTF-16 fails to parse on its first byte: said as the JSON's is (retest t61).
    const utf16 = utf16EvidenceOf(path);
    if (utf16 !== undefined) throw new UsageError(notUtf8Message('The config file', path, utf16), 'run');
    // A config may throw anything, even a value that cannot be read; jiti's "Error: ParseError: ..." is one error.
    const reason = withoutLocationLine(describeError(error), path).replace(/^Error: (?=\w+Error: )/, '');
    const location = syntaxErrorLocation(error, path);
    // A throw of its own (`throw new Error(...)`, a failed fetch of secrets) is placed as a syntax error is (H326).
    const thrown = location === undefined ? throwLocation(error, path) : undefined;
    const at = location ?? thrown?.config;
    const where = at === undefined ? path : `${path}:${at.line}:${at.column}`;
    const inFile = thrown?.thrownIn === undefined ? '' : ` (thrown at ${thrown.thrownIn.file}:${thrown.thrownIn.line}:${thrown.thrownIn.column})`;
    throw new UsageError(`Cannot load the config file ${where}: ${reason.split('\n')[0]}${inFile}${commonJsInModuleHint(path, reason)}`, 'run');
  }
}

/**
 * A PM2 ecosystem.config.js (`module.exports = ...`) in a project whose package.json says
 * "type": "module" is an ES module to Node, where `module` and `require` do not exist. Node's
 * own advice (rename it .cjs) is on a later line of its message, which is cut off above.
 */
function commonJsInModuleHint(path: string, reason: string): string {
  if (extname(path) !== '.js' || !/\b(?:module|exports|require|__dirname|__filename) is not defined in ES module scope/.test(reason)) return '';
  const name = basename(path);
  return (
    `. ${name} is an ES module here, because the nearest package.json has "type": "module": rename it ${name.slice(0, -'.js'.length)}.cjs ` +
    '(a .cjs file is CommonJS whatever package.json says), or write "export default { apps: [...] }" instead of "module.exports ="'
  );
}

/** `utf16Evidence` of the file's first 4 KiB; undefined when it has none or cannot be read. */
function utf16EvidenceOf(path: string): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(4096);
      return utf16Evidence(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function loadJson(path: string): unknown {
  // A byte order mark first (Windows editors save one) is no mistake: Node's require() of a .json
  // file drops it too (hostile t60: refused as "Unexpected token ''", the token invisible).
  const text = readSmallFile(path, kMaxJsonBytes, 'The config file').replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    // V8 quotes the text around the mistake (`Unexpected token 'h', "{"key": hunter2}" is not
    // valid JSON`): a value may be a secret, so that part is cut (H342); the position stays.
    const reason = (error as Error).message.replace(/, (?:\.\.\.)?"[^]*"(?:\.\.\.)? is not valid JSON$/, ' (the text around it is not shown: it may hold a value)');
    throw new UsageError(`The config file ${path} is not valid JSON: ${reason}`, 'run');
  }
  // JSON.parse keeps the last of a key given twice without a word (retest t59: `"workers": 1,
  // "workers": 2` ran two); a synonym given twice is refused by the checker (H129).
  const repeated = repeatedKey(text);
  if (repeated !== undefined) {
    throw new UsageError(`The config file ${path} gives ${JSON.stringify(repeated.key)} twice in one object (line ${repeated.line}); JSON would keep the last, and the first may be the one meant: keep one.`, 'run');
  }
  return value;
}

async function loadTypeScript(path: string): Promise<unknown> {
  const { createJiti } = await importModule<typeof import('jiti')>('jiti');
  // No cache on disk: a server's file system may be read-only, and a config is small.
  const jiti = createJiti(pathToFileURL(path).href, { fsCache: false, moduleCache: false, interopDefault: true });
  const namespace = await jiti.import<{ default?: unknown }>(path);
  return defaultExport(namespace, path);
}

async function defaultExport(namespace: { default?: unknown }, path: string): Promise<unknown> {
  if (!('default' in namespace) || namespace.default === undefined) {
    throw new UsageError(`The config file ${path} has no default export; write "export default defineConfig({ apps: [...] })" (or "module.exports = { apps: [...] }").`, 'run');
  }
  // `export default (async () => ({ apps }))()`: a config may compute itself. Awaiting reads
  // `then`: on a Proxy or a getter that throws, say so rather than "Cannot load".
  const value = namespace.default;
  try {
    if (typeof value === 'object' && value !== null) void (value as { then?: unknown }).then;
  } catch (error) {
    throw new UsageError(`The config file ${path}: its default export cannot be read (reading "then" threw): ${describeError(error).split('\n')[0]}`, 'run');
  }
  return await value;
}

/** A cron field: digits, `*`, `?`, steps, ranges, lists, `L` `W` `#`, or month and day names (`MON-FRI`). */
const kCronField = /^(?:[\d*?/,#LW-]+|[A-Za-z]{3}(?:[-,][A-Za-z]{3})*)$/i;
/** croner's nicknames, as PM2 takes them. */
const kCronNicknames = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Whether `value` reads as a cron expression: 5 or 6 fields of cron characters, or a nickname (`@daily`). */
function looksLikeCron(value: string): boolean {
  const trimmed = value.trim();
  if (kCronNicknames.has(trimmed.toLowerCase())) return true;
  const fields = trimmed.split(/\s+/);
  return (fields.length === 5 || fields.length === 6) && fields.every((field) => kCronField.test(field));
}

/** What a PM2 user who typed `-c "0 3 * * *"` meant, and clusterkit's spelling of it. */
function pm2CronHint(typed: string): string {
  return `. ${JSON.stringify(typed)} looks like a cron expression: PM2's -c is its --cron option, clusterkit's -c is --config; a reload on that schedule is --cron-restart ${JSON.stringify(typed)} (a rolling reload at each match, with no downtime).`;
}
