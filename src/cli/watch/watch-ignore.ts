/**
 * What a watch ignores (pure: no I/O). Always: `node_modules`, dot entries (`.git`, `.cache`,
 * `.DS_Store`, Vim's `.app.js.swp`, Emacs' `.#app.js` lock), `*.log` files, and the files
 * editors write beside the one being edited (`kEditorFiles`), anywhere below a watched path.
 * Then the user's patterns (`--ignore-watch`, `ignoreWatch`), each one of:
 *
 * - a name without a slash (`logs`, `coverage`): any file or directory of that name;
 * - a path relative to the app's cwd (`tmp/uploads`): that entry and everything below it;
 * - `*.ext` (`*.sqlite`): files ending with `.ext`;
 * - any other glob (`data/*`, `**\/*.tmp`, `uploads/**`, `{a,b}`), as PM2's `ignore_watch` takes
 *   them (its watcher, chokidar 3, matched them with picomatch): matched with picomatch against
 *   the path relative to the app's cwd, and, as a watcher does not go into an ignored
 *   directory, against each directory above it (explorer tester t60: `data/*` was taken and
 *   matched nothing).
 */
import { createRequire } from 'node:module';
import { isAbsolute, relative, sep } from 'node:path';
import type picomatchType from 'picomatch';

/**
 * picomatch, loaded on the first glob: a run without one (most, and every run without --watch)
 * never loads it, as chokidar is loaded only for --watch (scripts/build.mjs keeps both external).
 */
let picomatch: typeof picomatchType | undefined;
function globMatcher(pattern: string): (path: string) => boolean {
  picomatch ??= createRequire(import.meta.url)('picomatch') as typeof picomatchType;
  return picomatch(pattern, { dot: true });
}

export type IgnoreTest = (path: string) => boolean;

const kAlwaysIgnored = ['node_modules', '*.log'];

/**
 * The temporary and backup files editors and in-place tools write beside the file being edited,
 * which reload the workers twice each (once written, once removed) while the code on disk has not
 * changed (H257, H324; nodemon never sees them, as it watches only its `ext` list; PM2 ignores
 * only dot entries): `~` backups (Emacs, Vim, gedit), Emacs' auto-save `#app.js#`, Vim's swap
 * files where 'directory' drops the dot (`app.js.swp`, `.swo`, `.swx`) and the probe `4913` it
 * writes to test a directory (then 5036, 5159... by steps of 123), JetBrains' safe write
 * (`app.js___jb_tmp___`, `app.js___jb_old___`), `sed -i`'s `sedPCmgzM`, `perl -i`'s `XXK2xHHO`,
 * `mktemp`'s `tmp.FQ2xbgTwmF`, VS Code's atomic `app.js.vsctmp`, npm's write-file-atomic
 * `package.json.3928371822`, Qt's and GLib's safe save `app.js.Xa9Q2k`, `*.tmp` (and
 * `app.js.tmp-1234`), the `*.bak` of `sed -i.bak`. Dot entries (Emacs' lock `.#app.js`, GIO's
 * `.goutputstream-XXXXXX`, `.app.js.tmp-1234`) are ignored as such. Shown as such in the start
 * line and the docs.
 */
export const kEditorFiles = [
  '*~',
  '#*#',
  '*.swp',
  '*.swo',
  '*.swx',
  '4913',
  '*___jb_tmp___',
  '*___jb_old___',
  'sedXXXXXX',
  'XXXXXXXX',
  'tmp.XXXXXXXXXX',
  '*.vsctmp',
  '*.tmp',
  '*.bak',
] as const;

/** Vim's write probe: 4913, then 4913 + 123 × n while that name is taken (Vim's bufwrite.c). */
function isVimProbe(name: string): boolean {
  if (!/^\d{4,6}$/.test(name)) return false;
  const value = Number(name);
  return value >= 4913 && (value - 4913) % 123 === 0;
}

/**
 * Whether the characters mkstemp put in a name look drawn at random, not a word: a digit beside
 * a letter, or both cases after the first character (`Xa9Q2k`, `FQ2xbgTwmF`; not `config`,
 * `Module`). About 1 draw of 50 looks like a word and is missed: a change line more, never a
 * reload less.
 */
function looksRandom(part: string): boolean {
  const rest = part.slice(1);
  return (/\d/.test(part) && /[A-Za-z]/.test(part)) || (/[a-z]/.test(rest) && /[A-Z]/.test(rest));
}

/** Whether a file name is one of `kEditorFiles`. */
export function isEditorFile(name: string): boolean {
  return (
    name.endsWith('~') ||
    (name.length > 2 && name.startsWith('#') && name.endsWith('#')) ||
    /\.sw[pox]$/.test(name) ||
    name.endsWith('___jb_tmp___') ||
    name.endsWith('___jb_old___') ||
    isVimProbe(name) ||
    isToolTempFile(name)
  );
}

/**
 * The temporary files of in-place editing tools and atomic writers (H324), each from its own
 * source: GNU sed's `sed` + mkstemp's 6 (`sedPCmgzM`), perl -i's `XX` + 6 (5.28 on), mktemp's
 * `tmp.` + 10 (GNU; BSD's 8), VS Code's `.vsctmp`, write-file-atomic's `.` + a murmur hash,
 * Qt's QSaveFile and GLib's g_file_set_contents `.` + 6 after the file's own extension.
 */
function isToolTempFile(name: string): boolean {
  if (/^sed[A-Za-z0-9]{6}$/.test(name) || /^XX[A-Za-z0-9]{6}$/.test(name)) return true;
  const mktemp = /^tmp\.([A-Za-z0-9]{6,})$/.exec(name);
  if (mktemp !== null && looksRandom(mktemp[1]!)) return true;
  if (/\.(vsctmp|tmp|bak)$/.test(name) || /\.tmp(?:-[A-Za-z0-9]+|\.\d+)$/.test(name)) return true;
  // After the file's own extension: `package.json.3928371822`, `app.js.Xa9Q2k`.
  const suffix = /^[^.]+(?:\.[^.]+)*\.[A-Za-z0-9]{1,5}\.([A-Za-z0-9]+)$/.exec(name);
  if (suffix === null) return false;
  const added = suffix[1]!;
  return /^\d{6,10}$/.test(added) || (added.length === 6 && looksRandom(added));
}

/** `roots`: the watched paths (absolute); `cwd`: what user paths are relative to. */
export function createIgnoreTest(roots: readonly string[], patterns: readonly string[], cwd: string): IgnoreTest {
  const rules = [...kAlwaysIgnored, ...patterns].map(parsePattern);
  return (path) => {
    const root = roots.find((candidate) => path === candidate || isBelow(candidate, path));
    // Only what lies below a watched root is judged: a root inside a dot directory is still watched.
    const segments = root === undefined || root === path ? [] : relative(root, path).split(sep);
    if (segments.some((segment) => segment.startsWith('.'))) return true;
    if (segments.length > 0 && isEditorFile(segments.at(-1)!)) return true;
    const fromCwd = relative(cwd, path).split(sep).join('/');
    return rules.some((rule) => rule(segments, fromCwd));
  };
}

/** What makes a pattern a glob (picomatch's), beyond the `*.ext` form: `@types` and `a+b` stay names. */
const kGlobCharacters = /[*?[\]{}]|[!+@]\(/;

function parsePattern(pattern: string): (segments: string[], fromCwd: string) => boolean {
  const clean = pattern.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  if (clean.startsWith('*') && !clean.slice(1).includes('*') && !clean.includes('/') && !kGlobCharacters.test(clean.slice(1))) {
    const suffix = clean.slice(1);
    return (segments) => segments.length > 0 && segments.at(-1)!.endsWith(suffix);
  }
  if (kGlobCharacters.test(clean)) {
    const isMatch = globMatcher(clean);
    // A glob without a slash (`*.min.js`, `tmp-*`) names an entry anywhere, as a plain name does.
    if (!clean.includes('/')) return (segments) => segments.some((segment) => isMatch(segment));
    return (_segments, fromCwd) => {
      const parts = fromCwd.split('/');
      return parts.some((_, index) => isMatch(parts.slice(0, index + 1).join('/')));
    };
  }
  if (!clean.includes('/')) return (segments) => segments.includes(clean);
  return (_segments, fromCwd) => fromCwd === clean || fromCwd.startsWith(`${clean}/`);
}

function isBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
