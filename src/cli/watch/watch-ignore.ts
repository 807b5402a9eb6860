/**
 * What a watch ignores (pure: no I/O). Always: `node_modules`, dot entries (`.git`, `.cache`,
 * `.DS_Store`, Vim's `.app.js.swp`, Emacs' `.#app.js` lock), `*.log` files, and the files
 * editors write beside the one being edited (`kEditorFiles`), anywhere below a watched path.
 * Then the user's patterns (`--ignore-watch`, `ignoreWatch`), each one of:
 *
 * - a name without a slash (`logs`, `coverage`): any file or directory of that name;
 * - a path relative to the app's cwd (`tmp/uploads`): that entry and everything below it;
 * - `*.ext` (`*.sqlite`): files ending with `.ext`.
 */
import { isAbsolute, relative, sep } from 'node:path';

export type IgnoreTest = (path: string) => boolean;

const kAlwaysIgnored = ['node_modules', '*.log'];

/**
 * The temporary and backup files editors write beside the file being edited, which reload the
 * workers twice each (once written, once removed) while the code on disk has not changed (H257;
 * nodemon never sees them, as it watches only its `ext` list; PM2 ignores only dot entries):
 * `~` backups (Emacs, Vim, gedit), Emacs' auto-save `#app.js#`, Vim's swap files where
 * 'directory' drops the dot (`app.js.swp`, `.swo`, `.swx`) and the probe `4913` it writes to
 * test a directory (then 5036, 5159... by steps of 123), JetBrains' safe write
 * (`app.js___jb_tmp___`, `app.js___jb_old___`). Shown as such in the start line and the docs.
 */
export const kEditorFiles = ['*~', '#*#', '*.swp', '*.swo', '*.swx', '4913', '*___jb_tmp___', '*___jb_old___'] as const;

/** Vim's write probe: 4913, then 4913 + 123 × n while that name is taken (Vim's bufwrite.c). */
function isVimProbe(name: string): boolean {
  if (!/^\d{4,6}$/.test(name)) return false;
  const value = Number(name);
  return value >= 4913 && (value - 4913) % 123 === 0;
}

/** Whether a file name is one of `kEditorFiles`. */
export function isEditorFile(name: string): boolean {
  return (
    name.endsWith('~') ||
    (name.length > 2 && name.startsWith('#') && name.endsWith('#')) ||
    /\.sw[pox]$/.test(name) ||
    name.endsWith('___jb_tmp___') ||
    name.endsWith('___jb_old___') ||
    isVimProbe(name)
  );
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

function parsePattern(pattern: string): (segments: string[], fromCwd: string) => boolean {
  const clean = pattern.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  if (clean.startsWith('*') && !clean.slice(1).includes('*') && !clean.includes('/')) {
    const suffix = clean.slice(1);
    return (segments) => segments.length > 0 && segments.at(-1)!.endsWith(suffix);
  }
  if (!clean.includes('/')) return (segments) => segments.includes(clean);
  return (_segments, fromCwd) => fromCwd === clean || fromCwd.startsWith(`${clean}/`);
}

function isBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
