/**
 * What a watch ignores (pure: no I/O). Always: `node_modules`, dot entries (`.git`, `.cache`,
 * an editor's `.swp`), `*.log` files and `~` backups, anywhere below a watched path. Then the
 * user's patterns (`--ignore-watch`, `ignoreWatch`), each one of:
 *
 * - a name without a slash (`logs`, `coverage`): any file or directory of that name;
 * - a path relative to the app's cwd (`tmp/uploads`): that entry and everything below it;
 * - `*.ext` (`*.sqlite`): files ending with `.ext`.
 */
import { isAbsolute, relative, sep } from 'node:path';

export type IgnoreTest = (path: string) => boolean;

const kAlwaysIgnored = ['node_modules', '*.log', '*~'];

/** `roots`: the watched paths (absolute); `cwd`: what user paths are relative to. */
export function createIgnoreTest(roots: readonly string[], patterns: readonly string[], cwd: string): IgnoreTest {
  const rules = [...kAlwaysIgnored, ...patterns].map(parsePattern);
  return (path) => {
    const root = roots.find((candidate) => path === candidate || isBelow(candidate, path));
    // Only what lies below a watched root is judged: a root inside a dot directory is still watched.
    const segments = root === undefined || root === path ? [] : relative(root, path).split(sep);
    if (segments.some((segment) => segment.startsWith('.'))) return true;
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
