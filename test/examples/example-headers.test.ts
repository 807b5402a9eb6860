/**
 * Every example says, at its top, how to run it from a project where clusterkit is installed:
 * an `npm install` line naming every package its files import (and tsx when it runs through
 * tsx), and a command whose path is a file of the package's examples/. The packed tarball
 * really runs one that way (test/package/tarball.test.ts). Static and fast.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { kRepoRoot } from '../helpers/spawn.js';

const kExamples = join(kRepoRoot, 'examples');
const kSource = /\.(ts|mts|js|mjs|cjs)$/;

/** The leading comment of a file: a block comment, or the run of `//` lines. */
function header(text: string): string {
  const block = /^\s*\/\*\*?([\s\S]*?)\*\//.exec(text);
  if (block) return block[1]!;
  return (/^(?:\s*\/\/.*\n)+/.exec(text)?.[0] ?? '');
}

/** The packages a file imports: bare specifiers, without node: builtins, scope kept (`@a/b`). */
function importedPackages(text: string): string[] {
  const specifiers = [...text.matchAll(/(?:^|\n)\s*import\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((match) => match[1] ?? match[2] ?? match[3]!)
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !builtinModules.includes(specifier));
  return specifiers.map((specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
}

const examples = readdirSync(kExamples).filter((name) => statSync(join(kExamples, name)).isDirectory());

describe('example headers', () => {
  it.each(examples)('%s says what to install and how to run it from an installed package', (example) => {
    const directory = join(kExamples, example);
    const files = readdirSync(directory).filter((name) => kSource.test(name));
    const entries = files.filter((name) => header(readFileSync(join(directory, name), 'utf8')).includes(`node_modules/clusterkit/examples/${example}/`));
    expect({ example, entries: entries.length > 0 }).toEqual({ example, entries: true });
    const needed = new Set(['clusterkit', ...files.flatMap((name) => importedPackages(readFileSync(join(directory, name), 'utf8')))]);
    for (const entry of entries) {
      const text = header(readFileSync(join(directory, entry), 'utf8'));
      const install = /npm install ((?:[@\w./-]+ ?)+)/.exec(text);
      expect({ entry, install: install?.[0] }).toEqual({ entry, install: expect.any(String) });
      const installed = new Set(install![1]!.trim().split(/\s+/));
      const wanted = new Set([...needed, ...(/--import tsx/.test(text) ? ['tsx'] : [])]);
      expect({ entry, missing: [...wanted].filter((name) => !installed.has(name)) }).toEqual({ entry, missing: [] });
      // Every path it names inside the installed package is a file of the package.
      for (const [, path] of text.matchAll(/node_modules\/clusterkit\/(examples\/[\w./-]+)/g)) {
        expect({ entry, path, exists: statSync(join(kRepoRoot, path!), { throwIfNoEntry: false })?.isFile() ?? false }).toEqual({ entry, path, exists: true });
      }
    }
  });
});
