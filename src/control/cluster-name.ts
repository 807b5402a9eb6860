/**
 * Cluster names (H260). PM2 takes any string as an app's name (`'Billing API'`, `'api@v2'`), and
 * an ecosystem file runs here unchanged, so a name is kept as the user wrote it: in log lines,
 * `status`, `list` and the control commands. What needs a safe form gets it from `fileNameOf`,
 * one injective mapping that `nameOfFile` reverses: the control socket and the lock file are
 * named by it, and `list` reads the names back from those files.
 *
 * Refused: what could reach outside the control directory or forge a terminal line (`/`, `\`,
 * control and invisible characters: format and default-ignorable ones, such as U+200B and the
 * Hangul filler U+3164), what would look like another name (whitespace other than a space, such
 * as U+00A0 or U+3000, and blank-looking characters, such as the braille blank U+2800: H361),
 * what the command line cannot take back (a leading `-` reads as an option, a leading or
 * trailing space is lost to the shell), a leading combining mark (U+0301 alone shows as nothing,
 * first it joins what is shown before it: H372), U+FFFD (a byte that is not UTF-8 reads as it,
 * so two names of different bytes would be one), and more than 64 characters. Names are compared in
 * Unicode NFC: `ü` typed as one or two code points is one name.
 */
import { basename } from 'node:path';

/** The longest name, in characters (code points). */
export const kMaxNameChars = 64;

/** The rule, for the messages of a refused name. */
export const kClusterNameRule =
  `a cluster name is 1 to ${kMaxNameChars} characters: letters of any language, digits, spaces and punctuation such as "@", ":", "." and "-", ` +
  'but no "/" or "\\", no control or invisible characters, no whitespace other than a space (such as U+00A0 or U+3000) and no blank-looking character (such as U+2800), ' +
  'not starting with "-" (it would read as an option) or a combining mark (such as U+0301: it would join what is shown before it), and no space at either end';

/**
 * Control (tabs, newlines, ESC), invisible formatting (U+202E reorders a line) and other
 * default-ignorable characters (U+3164, variation selectors, H361), lone surrogates, line
 * separators, and path separators.
 */
const kForbidden = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}/\\\uFFFD]/u;
const kForbiddenRuns = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}/\\\uFFFD]+/gu;
/** Whitespace other than U+0020 (U+00A0, U+3000...) and the blank-looking braille blank, Khitan filler and null notehead (H361). */
const kOtherBlank = /[^\S ]|[\u2800\u{16FE4}\u{1D159}]/u;
const kOtherBlankRuns = /(?:[^\S ]|[\u2800\u{16FE4}\u{1D159}])+/gu;
/** The characters a file name keeps as they are; every other one is written as `%XX` per UTF-8 byte. */
const kFileSafe = /^[A-Za-z0-9_-]$/;

/** Why `name` (NFC) cannot name a cluster, as a clause (`it has a "/"`); undefined when it can. */
export function clusterNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  const length = [...name].length;
  if (length > kMaxNameChars) return `it has ${length} characters`;
  const bad = kForbidden.exec(name)?.[0];
  if (bad !== undefined) return `it has ${describeChar(bad)}`;
  const blank = kOtherBlank.exec(name)?.[0];
  if (blank !== undefined) return `it has ${describeBlank(blank)}, which would look like a space or nothing`;
  if (name.startsWith('-')) return 'it starts with "-"';
  // Alone it shows as nothing; first it lands on the column before it in clusterkit list (H372).
  if (/^\p{M}/u.test(name)) return `it starts with a combining mark (U+${name.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}), which would join what is shown before it${/^\p{M}+$/u.test(name) ? ' and, alone, show as nothing' : ''}`;
  if (/^\s|\s$/u.test(name)) return 'it starts or ends with a space';
  return undefined;
}

/** A valid name close to `name` (`a/b` -> `a-b`), for a refusal to suggest; undefined when nothing is left. */
export function suggestClusterName(name: string): string | undefined {
  const cleaned = name.normalize('NFC').replace(kForbiddenRuns, '-').replace(kOtherBlankRuns, ' ').replace(/^[\s.\p{M}-]+/u, '');
  const suggestion = [...cleaned].slice(0, kMaxNameChars).join('').replace(/[\s-]+$/u, '');
  return suggestion === '' || clusterNameProblem(suggestion) !== undefined ? undefined : suggestion;
}

/** `"a/b" is not a cluster name: it has a "/"; <the rule>. Try "a-b".` */
export function describeBadName(name: string, what = `${JSON.stringify(name)} is not a cluster name`): string {
  const suggestion = suggestClusterName(name);
  return `${what}: ${clusterNameProblem(name.normalize('NFC'))}; ${kClusterNameRule}. Try ${JSON.stringify(suggestion ?? 'app')}.`;
}

/**
 * The name a script gives its cluster when none is given (H261): its file name without the
 * extension (`server` for server.js, `api.v1` for api.v1.js, H280), in NFC. `note`
 * when that is no cluster name as it is and was mapped (`suggestClusterName`), to be said at
 * the start; `name` undefined when nothing is left of it. Never a shared fallback: two scripts
 * whose file names differ get names that differ, unless their mapped forms meet.
 */
export function nameFromFile(path: string): { name: string | undefined; note?: string } {
  const base = scriptBase(path);
  const problem = clusterNameProblem(base);
  if (problem === undefined) return { name: base };
  const name = suggestClusterName(base);
  const why = `its script's file name ${JSON.stringify(base)} is no cluster name as it is (${problem})`;
  return name === undefined ? { name } : { name, note: `named the cluster ${JSON.stringify(name)}, as ${why}; choose its name with --name (or "name" in the config file)` };
}

/** Why no name could be made of the script's file name (`nameFromFile` gave none), and what to do: name it with `where`. */
export function unnamedScript(path: string, where: string): string {
  const base = scriptBase(path);
  return `The script ${JSON.stringify(basename(path))} gives no cluster name: of its file name ${JSON.stringify(base)} (${clusterNameProblem(base) ?? 'it is empty'}), nothing is left once what a name may not have is taken out. Name it with ${where}: ${kClusterNameRule}.`;
}

/**
 * The file-name form of a valid name: letters, digits, `_` and `-` as they are, `.` too unless it
 * comes first (no hidden file, no `..`), every other character as `%XX` per UTF-8 byte
 * (`Billing API` -> `Billing%20API`). Injective, and the identity on the names accepted before
 * H260 (`[A-Za-z0-9][A-Za-z0-9._-]*`), so their sockets keep their paths.
 */
export function fileNameOf(name: string): string {
  let stem = '';
  for (const char of name) {
    stem += kFileSafe.test(char) || (char === '.' && stem !== '') ? char : percentBytes(char);
  }
  return stem;
}

/** The name whose `fileNameOf` is `stem`; undefined for a file no valid name maps to. */
export function nameOfFile(stem: string): string | undefined {
  if (!/^[A-Za-z0-9._%-]+$/.test(stem)) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(stem);
  } catch {
    return undefined; // not UTF-8
  }
  // Only the one spelling fileNameOf writes: `a%41` is not `aA`'s file.
  return clusterNameProblem(name) === undefined && name === name.normalize('NFC') && fileNameOf(name) === stem ? name : undefined;
}

/**
 * `server` for /srv/server.mjs, in NFC (macOS file names are NFD). Only the extension goes, as
 * PM2 names an app: `api.v1.js` and `api.v2.js` are `api.v1` and `api.v2`, not both `api` (H280).
 */
function scriptBase(path: string): string {
  const file = basename(path).normalize('NFC');
  const dot = file.lastIndexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

function percentBytes(char: string): string {
  return [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

function describeChar(char: string): string {
  if (char === '/' || char === '\\') return `a ${JSON.stringify(char)}`;
  // Node reads each byte of a command-line argument that is not UTF-8 as U+FFFD: `--name $'a\xff'`
  // and `$'a\xc0'` would be one name, so `stop` of one reached the other (H408).
  if (char === '\uFFFD') return 'the replacement character U+FFFD (what a byte that is not UTF-8 reads as: names of different bytes would be one); write the name in UTF-8';
  const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /\p{Cc}/u.test(char) ? `a control character (${code})` : `an invisible character (${code})`;
}

function describeBlank(char: string): string {
  const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /\s/u.test(char) ? `a whitespace character other than a space (${code})` : `a blank-looking character (${code})`;
}
