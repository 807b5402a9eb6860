/**
 * Option validation shared by every normalize function. Each check names the option and what
 * it accepts, so the error says exactly what to change:
 * `The "maxPendingPerWorker" option must be a positive integer. Received -1`. Durations have
 * their own check, with the longest delay a timer holds: `durationOption` in duration.ts.
 */
import { statSync } from 'node:fs';
import { ClusterKitError, InvalidArgumentError, InvalidOptionError, receivedClause } from './errors.js';
import { kMaxMaxMessageBytes, kMinMaxMessageBytes } from './messaging/defaults.js';
import { describeError, isError } from './readable-error.js';
// The CLI's edit-distance helper, shared: one "did you mean" for flags, config keys and options.
import { closest } from './cli/suggest.js';

/**
 * One option's check: `value` as given (undefined when absent), `name` its dotted path for
 * errors, `done` the options of the same table normalized before it (for a default or a limit
 * that depends on another option). Returns the normalized value, default filled in.
 */
export type OptionCheck<T> = (value: unknown, name: string, done: Readonly<Record<string, unknown>>) => T;

/** An options table: each option's check and default, declared once; the key order is the check order. */
export type OptionTable = Readonly<Record<string, OptionCheck<unknown>>>;

/** The normalized options a table produces, typed from its checks. */
export type NormalizedOptions<T extends OptionTable> = { readonly [K in keyof T]: ReturnType<T[K]> };

/**
 * Normalizes `input` with `table`: rejects unknown keys, checks each option in the table's
 * order (the first invalid one throws `InvalidOptionError`), fills defaults, freezes the result.
 * @param name how errors name `input` itself when it is not an object (`options`, `restart`).
 * @param prefix the dotted path of nested options (`restart.`).
 * @param renamed options renamed since an earlier release, old name to new: the error names the new one.
 */
export function normalizeOptions<T extends OptionTable>(
  input: unknown,
  table: T,
  name: string,
  prefix = '',
  renamed: Readonly<Record<string, string>> = {},
  synonyms: Readonly<Record<string, string>> = {},
): NormalizedOptions<T> {
  const keys = Object.keys(table);
  const options = knownOptions(input, keys, name, prefix, renamed, synonyms);
  const normalized: Record<string, unknown> = {};
  for (const key of keys) normalized[key] = readingOption(prefix + key, undefined, () => table[key]!(options[key], prefix + key, normalized));
  return Object.freeze(normalized) as NormalizedOptions<T>;
}

/**
 * Runs `read`, which reads the option `name` (a getter, a Proxy trap, user code in general):
 * anything it throws but `InvalidOptionError` becomes an `InvalidOptionError` naming the
 * option, with what was thrown as its `cause`. Options are plain data; one whose reading throws
 * is refused at the call, never thrown raw.
 */
export function readingOption<T>(name: string, received: unknown, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isError(error) && error instanceof InvalidOptionError) throw error;
    throw new InvalidOptionError(name, `readable: reading it threw ${describeError(error)}`, received, { cause: error, isUnread: received === undefined });
  }
}

/**
 * Runs `read`, which reads the argument `argument` of `call` (a getter, a Proxy trap, a method it
 * calls): anything it throws but a `ClusterKitError` becomes an `InvalidArgumentError` naming the
 * call and the argument, with what was thrown as its `cause` (hostile t84 #9: `trackServer()` of
 * a revoked Proxy threw Node's raw TypeError). `advice`: what to pass instead.
 */
export function readingArgument<T>(call: string, argument: string, advice: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isError(error) && error instanceof ClusterKitError) throw error;
    throw new InvalidArgumentError(`${call}'s "${argument}" argument could not be read: reading it threw ${describeError(error)}. ${advice}`, { cause: error });
  }
}

/**
 * `input` (an options object, or undefined for none) as a plain object of its own keys, read
 * once: a key that is not in `known` (a typo, silently ignored otherwise) is refused with the
 * nearest known one as a suggestion, a key in `renamed` with its new name; reading that throws
 * (a getter, a Proxy trap) is refused with what it threw as the `cause`. Every error is an
 * `InvalidOptionError`. The checks then read the copy, never the caller's object again.
 * @param known the accepted keys; `'any'` to only copy (the runner passes the rest on to `ClusterPrimary`).
 * @param name how errors name `input` itself (`options`, `send options`).
 * @param prefix the dotted path of nested options (`restart.`).
 */
export function knownOptions(
  input: unknown,
  known: readonly string[] | 'any',
  name: string,
  prefix = '',
  renamed: Readonly<Record<string, string>> = {},
  synonyms: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const options = optionsObject(input as object | undefined, prefix ? prefix.slice(0, -1) : name);
  const keys = readingOption(prefix ? prefix.slice(0, -1) : name, input, () => Object.keys(options));
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    if (known !== 'any' && !known.includes(key)) throw unknownOption(key, known, prefix, renamed, options, synonyms);
    copy[key] = readingOption(prefix + key, undefined, () => (options as Record<string, unknown>)[key]);
  }
  return copy;
}

/**
 * `synonyms`: another tool's word for a known option (PM2's `instances` for `workerCount`), named
 * as the likely one where spelling alone would not find it.
 */
function unknownOption(
  key: string,
  known: readonly string[],
  prefix: string,
  renamed: Readonly<Record<string, string>>,
  options: object,
  synonyms: Readonly<Record<string, string>>,
): InvalidOptionError {
  const newName = Object.hasOwn(renamed, key) ? renamed[key] : undefined;
  if (newName !== undefined) {
    return new InvalidOptionError(`${prefix}${key}`, `renamed to "${newName}" (same values)`, readingOption(prefix + key, undefined, () => (options as Record<string, unknown>)[key]));
  }
  const nearest = (Object.hasOwn(synonyms, key) ? synonyms[key] : undefined) ?? closest(key, known);
  // The likely name first: the list of the known ones may run to 40 names.
  const hint = nearest === undefined ? '' : `, probably "${prefix}${nearest}"`;
  return new InvalidOptionError(`${prefix}${key}`, `one of the known options${hint} (${known.join(', ')})`, key);
}

/** `value` as an options object: `undefined` becomes `{}`, anything else but a plain object throws. */
export function optionsObject<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  // Array.isArray throws for a revoked Proxy (hostile t83 #8: a raw TypeError from every call).
  if (typeof value !== 'object' || value === null || readingOption(name, value, () => Array.isArray(value))) {
    throw new InvalidOptionError(name, 'an object', value);
  }
  return value;
}

/** What `Number.isSafeInteger` adds to "an integer", in words: options name the real rule. */
export const kSafeIntegerRule = `at most Number.MAX_SAFE_INTEGER (${Number.MAX_SAFE_INTEGER})`;

interface IntegerRules {
  min?: number;
  allowInfinity?: boolean;
}

/** An integer >= `min` (default 1), or `fallback` when undefined. */
export function integerOption(value: unknown, name: string, fallback: number, rules: IntegerRules = {}): number {
  if (value === undefined) return fallback;
  const min = rules.min ?? 1;
  if (rules.allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    // 2 ** 60 is an integer, but not one a number holds exactly: say the real rule.
    const kind = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    const expected = `${kind} ${kSafeIntegerRule}`;
    throw new InvalidOptionError(name, rules.allowInfinity ? `${expected}, or Infinity` : expected, value);
  }
  return value;
}

/**
 * `maxMessageBytes` (the primary's and a worker's): an integer of bytes from 8 KiB
 * (`kMinMaxMessageBytes`, what clusterkit's own messages need) to 256 MiB
 * (`kMaxMaxMessageBytes`), or `fallback` when undefined.
 */
export function maxMessageBytesOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < kMinMaxMessageBytes || value > kMaxMaxMessageBytes) {
    throw new InvalidOptionError(
      name,
      `an integer of bytes from ${kMinMaxMessageBytes} (8 KiB: clusterkit's own messages, such as a worker's ready notice and an error reply, need that much) to ${kMaxMaxMessageBytes} (256 MiB: a message is read whole, as one string, and V8's longest is about 512 MiB)`,
      value,
    );
  }
  return value;
}

/** A finite number >= `min`, or `fallback` when undefined. */
export function numberOption(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(name, `a finite number >= ${min}`, value);
  }
  return value;
}

export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'true or false', value);
  return value;
}

export function enumOption<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((entry) => `"${entry}"`).join(', ')}`, value);
  }
  return value as T;
}

/**
 * An array of strings that can be process arguments (`workerArgs`, `execArgv`): none with a NUL
 * byte, none over the kernel's 128 KiB for one argument (MAX_ARG_STRLEN), or every fork fails.
 */
export function stringArrayOption(value: unknown, name: string, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
    throw new InvalidOptionError(name, 'an array of strings', value);
  }
  value.forEach((entry: string, index) => {
    if (entry.includes('\0')) throw new InvalidOptionError(`${name}[${index}]`, 'a string without a NUL byte', entry);
    if (Buffer.byteLength(entry) + 1 > kMaxEnvEntryBytes) {
      throw new InvalidOptionError(`${name}[${index}]`, `a string of at most ${kMaxEnvEntryBytes - 1} bytes (the kernel's limit for one argument)`, entry);
    }
  });
  return Object.freeze([...value]);
}

export function stringOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty string', value);
  return value;
}

/** Linux refuses one environment string (`NAME=value`, with its NUL) over 128 KiB: MAX_ARG_STRLEN. */
const kMaxEnvEntryBytes = 128 * 1024;

/**
 * Environment additions: string values, or `undefined` to remove an inherited variable. A name
 * is non-empty, without `=` (a name `A=B` would set `A` to `B=...`) or a NUL byte; a value has
 * no NUL byte, and `NAME=value` fits the kernel's 128 KiB per string: otherwise every fork
 * would fail, or set another variable. Inherited enumerable keys count as own ones, as
 * `child_process` reads an `env` (`for...in`).
 */
export function envOption(value: unknown, name: string): Readonly<Record<string, string | undefined>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== 'object' || value === null || readingOption(name, value, () => Array.isArray(value))) {
    throw new InvalidOptionError(name, 'an object of string values', value);
  }
  const env: Record<string, string | undefined> = {};
  // Inherited enumerable keys too, as child_process reads `env` (`for...in`): an
  // `Object.create({ FOO: 'x' })` passed FOO to a spawned child but was dropped here in silence,
  // and a clusterkit variable inherited so escaped the refusal of workerEnvOption (H78).
  // Read once, whole: a getter or Proxy trap that throws is refused naming the option (hostile t83 #8: thrown raw).
  const read = readingOption(name, value, () => {
    const pairs: Array<[string, unknown]> = [];
    for (const key in value) pairs.push([key, (value as Record<string, unknown>)[key]]);
    return pairs;
  });
  for (const [key, entry] of read) {
    const option = `${name}.${key}`;
    if (key.length === 0 || key.includes('=') || key.includes('\0')) {
      throw new InvalidOptionError(name, 'an object keyed by variable names: non-empty, without "=" or a NUL byte', key);
    }
    if (entry !== undefined && typeof entry !== 'string') {
      throw new InvalidOptionError(option, 'a string (or undefined to remove the variable)', entry);
    }
    if (entry?.includes('\0')) throw new InvalidOptionError(option, 'a string without a NUL byte', entry);
    if (entry !== undefined && Buffer.byteLength(key) + Buffer.byteLength(entry) + 2 > kMaxEnvEntryBytes) {
      throw new InvalidOptionError(option, `a string such that NAME=value is at most ${kMaxEnvEntryBytes - 1} bytes (the kernel's limit for one variable)`, entry);
    }
    env[key] = entry;
  }
  return Object.freeze(env);
}

/**
 * A regular expression with Unicode property escapes (`\p{...}`, flag `u`), made on its first
 * use. V8 builds a property's character set when it parses such a pattern, and parses a regular
 * expression literal with the module, even one inside a function never called: the name checks'
 * literals cost every process that loads this file about 1 ms of CPU at import, a worker's
 * start included (docs/performance.md, thirteenth session). A pattern in a string is parsed
 * only here. Only for patterns without the `g` or `y` flag: the object is shared.
 */
function unicodeRegExp(source: string): () => RegExp {
  let regExp: RegExp | undefined;
  return () => (regExp ??= new RegExp(source, 'u'));
}

/** Longest worker name or role, in characters. */
export const kMaxWorkerNameLength = 128;

/**
 * What a worker name or role may not hold: control characters (C0, DEL, C1: a newline would forge
 * a log line), line and paragraph separators, lone surrogates (UTF-16 that is not well formed:
 * the name reaches the worker through its environment, in UTF-8, where U+D800 becomes U+FFFD, so
 * the worker would believe another name than the primary's, H354), and the invisible characters:
 * Unicode's format characters (`Cf`: the bidirectional ones that reorder what a terminal shows,
 * U+202E showing `gpj.exe` as `exe.jpg`; zero-width space and joiners, the BOM, the soft hyphen,
 * tag characters) and the other default-ignorable code points (Hangul fillers U+115F, U+1160,
 * U+3164 and U+FFA0, variation selectors U+FE00-FE0F and U+E0100-E01EF, U+034F): `b` and
 * `b\u200b` would look the same in `clusterkit status`, logs and errors, yet name two workers.
 * `\p{Cs}` with the `u` flag matches a lone surrogate only (a pair reads as one code point):
 * `String.prototype.isWellFormed()` in one pass with the rest.
 */
const unsafeNameCharacter = unicodeRegExp('[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}]');

/**
 * Whitespace and the characters that show as blank without being invisible (H361): every `\s`
 * (the `Zs` spaces: no-break space U+00A0, ideographic space U+3000, U+2000-200A...; tabs and
 * line breaks are control characters, refused before) and the blank-looking letters and symbols
 * Unicode does not count as ignorable: the braille blank U+2800, the Khitan filler U+16FE4 and
 * the musical null notehead U+1D159. A name may hold U+0020, and only between other characters:
 * `b` and `b\u2800`, `a` and `a `, `x y` and `x\u00a0y` would look the same, and a name of
 * spaces alone would show as a blank column in `clusterkit status`. A blank character other
 * than U+0020 is refused anywhere in a name.
 */
const kOtherBlankCharacter = /[^\S ]|[\u2800\u{16FE4}\u{1D159}]/u;
/** A name made of blank characters only. */
const kOnlyBlank = /^[\s\u2800\u{16FE4}\u{1D159}]+$/u;

/** A combining mark (`\p{M}`: U+0301, U+20DD...) as the first character (H372). */
const leadingMark = unicodeRegExp('^\\p{M}');
const onlyMarks = unicodeRegExp('^\\p{M}+$');
/** A space carrying only combining marks at the end (`x \u0301`): it shows as `x` and a stray accent (H501). */
const trailingMarkedSpace = unicodeRegExp(' \\p{M}+$');
const loneSurrogate = unicodeRegExp('\\p{Cs}');
const controlCharacter = unicodeRegExp('\\p{Cc}');
const lineSeparator = unicodeRegExp('[\\p{Zl}\\p{Zp}]');

/**
 * Why a name or role starting with a combining mark is not one: the mark, its index, what it
 * would show as, and what to do.
 */
function leadingMarkProblem(value: string, what: 'name' | 'role'): string {
  const mark = codePointName(String.fromCodePoint(value.codePointAt(0)!));
  const fix = 'start it with a letter, digit or symbol';
  if (onlyMarks().test(value)) return `it is made of combining marks only, the first ${mark} at index 0, so it would show as an empty ${what} in clusterkit status: ${fix}`;
  return `it starts with a combining mark ${mark} at index 0, which joins the character shown before it (in clusterkit status, the column's padding): ${fix}`;
}

/** The names of the blank characters a user is most likely to meet, for the message. */
const kBlankNames: Readonly<Record<string, string>> = {
  ' ': 'space',
  '\u00a0': 'no-break space',
  '\u1680': 'Ogham space mark',
  '\u202f': 'narrow no-break space',
  '\u205f': 'medium mathematical space',
  '\u3000': 'ideographic space',
  '\u2800': 'braille pattern blank',
  '\u{16FE4}': 'Khitan small script filler',
  '\u{1D159}': 'musical symbol null notehead',
};

/** The bidirectional formatting characters among the refused ones, named as such in an error. */
const kBidiCharacter = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The rule for worker names and roles, as a phrase completing "must be". */
function workerNameRule(what: 'name' | 'role'): string {
  return (
    `a string of 1 to ${kMaxWorkerNameLength} characters without a space at either end or any other whitespace or blank-looking character (U+00A0, U+3000, U+2800...), ` +
    `in Unicode NFC (${what}.normalize('NFC')), not starting with a combining mark (U+0301...), and without control, invisible (Unicode format or default-ignorable) or bidirectional formatting characters, line separators or lone surrogates${what === 'role' ? ' or commas' : ''}`
  );
}

/**
 * Why the string `value` cannot be a worker name (or role, which has no comma either), as a
 * clause such as `it has an invisible character U+200B at index 1`; undefined when it can.
 * The index is the UTF-16 one (`value[1]`).
 */
export function workerNameProblem(value: string, what: 'name' | 'role' = 'name'): string | undefined {
  if (value.length === 0) return 'it is empty';
  // The mark clusterkit status and the dashboard show for a worker with none (hostile tester t57, H545).
  if (value === '-') return `it is "-", which clusterkit status shows for a worker with no ${what}`;
  if (value.length > kMaxWorkerNameLength) return `it has ${value.length} characters`;
  const found = unsafeNameCharacter().exec(value);
  if (found !== null) {
    const why = loneSurrogate().test(found[0]) ? ", not well-formed UTF-16, which the worker's UTF-8 environment would carry as U+FFFD" : '';
    return `it has ${describeNameCharacter(found[0])} at index ${found.index}${why}`;
  }
  // Blank or lookalike (H361): after the invisible characters, so that their messages stay.
  if (kOnlyBlank.test(value)) {
    const first = describeBlankCharacter(String.fromCodePoint(value.codePointAt(0)!));
    return `it is blank: it has only whitespace or blank-looking characters, the first ${first} at index 0, so it would show as an empty name in clusterkit status`;
  }
  const blank = kOtherBlankCharacter.exec(value);
  if (blank !== null) {
    return `it has ${/\s/u.test(blank[0]) ? 'a whitespace character' : 'a blank-looking character'} other than a space, ${describeBlankCharacter(blank[0])}, at index ${blank.index}: use a space (U+0020), "-" or "_" instead`;
  }
  if (value.charCodeAt(0) === 0x20) return `it starts with a space (U+0020 at index 0): pass ${what}.trim()`;
  // A leading mark (H372): alone it shows as nothing; first it lands on what comes before it (a
  // column's padding in clusterkit status), and `\u0301a` shows as `a`.
  if (leadingMark().test(value)) return leadingMarkProblem(value, what);
  if (value.charCodeAt(value.length - 1) === 0x20) return `it ends with a space (U+0020 at index ${value.length - 1}): pass ${what}.trim()`;
  const marked = trailingMarkedSpace().exec(value);
  if (marked !== null) {
    return `it ends with a space carrying only combining marks (U+0020 at index ${marked.index}, then ${codePointName(String.fromCodePoint(value.codePointAt(marked.index + 1)!))}): it shows as the ${what} before it with a stray mark; end it with a letter, digit or symbol`;
  }
  const comma = what === 'role' ? value.indexOf(',') : -1;
  if (comma !== -1) return `it has a comma at index ${comma}, and roles travel comma-joined in CLUSTERKIT_ROLES`;
  return nfcProblem(value, what);
}

/**
 * Why `value` (well-formed, no invisible character) is not in Unicode NFC, naming the code points
 * that differ and their index (`U+0065 U+0301 at index 3 are U+00E9 in NFC`); undefined when it
 * is. `cafe\u0301` and `caf\u00e9` look the same, so only the NFC one is a name (H361).
 */
function nfcProblem(value: string, what: 'name' | 'role'): string | undefined {
  const nfc = value.normalize('NFC');
  if (nfc === value) return undefined;
  let start = 0;
  while (start < value.length && start < nfc.length && value[start] === nfc[start]) start++;
  // Never split a surrogate pair: start at its high half.
  if (start > 0 && isHighSurrogate(value.charCodeAt(start - 1))) start--;
  let end = 0;
  while (end < value.length - start && end < nfc.length - start && value[value.length - 1 - end] === nfc[nfc.length - 1 - end]) end++;
  if (end > 0 && isHighSurrogate(value.charCodeAt(value.length - end - 1))) end--;
  const from = codePointList(value.slice(start, value.length - end));
  const to = codePointList(nfc.slice(start, nfc.length - end));
  return `it is not in Unicode NFC: ${from} at index ${start} ${from.includes(' ') ? 'are' : 'is'} ${to} in NFC, which looks the same: pass ${what}.normalize('NFC')`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** `U+0065 U+0301`, at most 8 code points (then `...`). */
function codePointList(text: string): string {
  const codes = [...text].map(codePointName);
  return codes.length > 8 ? `${codes.slice(0, 8).join(' ')} ...` : codes.join(' ');
}

function codePointName(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function describeNameCharacter(char: string): string {
  const code = codePointName(char);
  if (loneSurrogate().test(char)) return `a lone surrogate ${code}`;
  if (controlCharacter().test(char)) return `a control character ${code}`;
  if (lineSeparator().test(char)) return `a line separator ${code}`;
  if (kBidiCharacter.test(char)) return `a bidirectional formatting character ${code}`;
  return `an invisible character ${code}`;
}

/** `U+00A0 (no-break space)`, `U+2003`. */
function describeBlankCharacter(char: string): string {
  const name = kBlankNames[char];
  return name === undefined ? codePointName(char) : `${codePointName(char)} (${name})`;
}

/**
 * The names and roles known to pass `workerNameProblem`, so that a lookup repeated on every call
 * (`sendTo(name)`, `roundRobin({ role })`) costs a Set lookup, not three regular expressions and
 * an NFC normalization (H361). Bounded: once it holds kCheckedNamesMax entries it is emptied
 * (cheaper than evicting one at a time), so a caller that makes up names cannot grow it. Names
 * and roles apart, as a role has no comma.
 */
const kCheckedNamesMax = 1_000;
const kCheckedNames = { name: new Set<string>(), role: new Set<string>() };

/** A name of printable ASCII with no space at either end: always a name (a role too, without a comma). */
const kPlainAsciiName = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

function checkedWorkerNameProblem(value: string, what: 'name' | 'role'): string | undefined {
  const checked = kCheckedNames[what];
  if (checked.has(value)) return undefined;
  // Most names (`cache`, `api-7`) are plain ASCII: one regular expression instead of the rest.
  const plain = kPlainAsciiName.test(value) && (what === 'name' || !value.includes(',')) && value !== '-';
  const problem = plain ? undefined : workerNameProblem(value, what);
  if (problem === undefined) {
    if (checked.size >= kCheckedNamesMax) checked.clear();
    checked.add(value);
  }
  return problem;
}

/**
 * A worker name (`fork({ name })`) or role: 1 to 128 characters in Unicode NFC, none of them a
 * control, invisible or bidirectional formatting character, a line separator, a lone surrogate
 * (`kUnsafeNameCharacter`), whitespace other than U+0020 or a blank-looking character, and no
 * space at either end (`kOtherBlankCharacter`); a role has no comma either (roles travel
 * comma-joined). The error says which character, as U+XXXX, at which index.
 */
export function workerNameOption(value: unknown, name: string, what: 'name' | 'role' = 'name'): string | undefined {
  if (value === undefined) return undefined;
  const problem = typeof value === 'string' ? checkedWorkerNameProblem(value, what) : undefined;
  if (typeof value !== 'string' || problem !== undefined) {
    throw new InvalidOptionError(name, problem === undefined ? workerNameRule(what) : `${workerNameRule(what)} (${problem})`, value);
  }
  return value;
}

/**
 * Checks a worker name or role that a lookup is given (`sendTo(target)`, `workerByName()`,
 * `roundRobin({ role })`): one that no worker can have is an argument error, not a worker that
 * happens to be missing. `call` names the argument (`sendTo()'s target`). Run on every such
 * call: a name seen before costs a Set lookup (`checkedWorkerNameProblem`).
 * @throws InvalidArgumentError for a non-string or a string `workerNameOption` refuses.
 */
export function workerNameArgument(value: unknown, call: string, what: 'name' | 'role' = 'name'): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${call} must be a worker ${what}, a string. ${receivedClause(value)}.`);
  const problem = checkedWorkerNameProblem(value, what);
  if (problem !== undefined) {
    throw new InvalidArgumentError(`${call} can be no worker's ${what}: ${problem}; a worker ${what} is ${workerNameRule(what)}. ${receivedClause(value)}.`);
  }
  return value;
}

/** An existing directory (`cwd`), checked at the call so a missing one is not a crash loop later. */
export function directoryOption(value: unknown, name: string): string | undefined {
  const path = stringOption(value, name);
  if (path === undefined) return undefined;
  if (path.includes('\0')) throw new InvalidOptionError(name, 'a path without a NUL byte', path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'ENOTDIR' ? 'a part of it is a file' : code === 'EACCES' ? 'it cannot be reached: permission denied' : describeError(error);
    throw new InvalidOptionError(name, `an existing directory (${why})`, path, { cause: error });
  }
  if (!isDirectory) throw new InvalidOptionError(name, 'a directory (it is a file)', path);
  return path;
}

/** A TCP port number, 0 meaning any free port. */
export function portOption(value: unknown): number {
  // Required: a probe or a client aimed at an intended port finds nothing on a random one (hostile t60: listenHealth({}) listened on one, unsaid).
  // One message for every bad value: "at most 9007199254740991" described no port (hostile t60).
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) throw new InvalidOptionError('port', 'a port number from 0 to 65535 (0: any free port)', value);
  return value;
}
