import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

/**
 * Every row of the fault matrix (docs/faults.md) has a test, tagged [F<row>] in its name.
 * Row 26 (Windows signals) cannot run on Linux CI and is documented instead.
 */
const kRows = 55;
const kUntestable = new Set([26]);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? testFiles(join(dir, entry.name)) : entry.name.endsWith('.test.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('fault matrix coverage', () => {
  it('has a tagged test for every row, and docs/faults.md lists them', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const tagged = new Set<number>();
    for (const file of testFiles(root)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/it(?:\.each\([^)]*\))?\(\s*'((?:\[[FH]\d+\])+)/g)) {
        for (const row of match[1]!.matchAll(/F(\d+)/g)) tagged.add(Number(row[1]));
      }
    }
    const missing = Array.from({ length: kRows }, (_, index) => index + 1).filter((row) => !tagged.has(row) && !kUntestable.has(row));
    expect(missing).toEqual([]);
    const doc = readFileSync(new URL('../../docs/faults.md', import.meta.url), 'utf8');
    for (let row = 1; row <= kRows; row++) expect(doc).toMatch(new RegExp(`^\\| ${row} \\|`, 'm'));
  });

  it('has a tagged test for every hardening row (H<kind>), and a row for every such tag', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const tagged = new Set<string>();
    for (const file of testFiles(root)) {
      // it.each(name), or a table that may hold parentheses in its strings: read up to its closing
      // `])`, never past the next test (a table whose title has no tag read on to a later `])('[H29]`,
      // and the tags of the tests between went unseen).
      for (const match of readFileSync(file, 'utf8').matchAll(/it(?:\.each\((?:[^)]*|(?:(?!\n\s*it[.(])[\s\S])*?\])\))?\(\s*['"`]((?:\[[FH]\d+\])+)/g)) {
        for (const row of match[1]!.matchAll(/H\d+/g)) tagged.add(row[0]);
      }
    }
    const doc = readFileSync(new URL('../../docs/faults.md', import.meta.url), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| (H\d+) \|/gm)].map((match) => match[1]!));
    expect([...rows].filter((row) => !tagged.has(row))).toEqual([]);
    expect([...tagged].filter((tag) => !rows.has(tag))).toEqual([]);
  });
});

