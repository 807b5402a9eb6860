/**
 * A file saying what the next worker of `workers/init-from-file.ts` does at its start (`ready`,
 * `throw`, `hang`, `crash-after-ready`...), removed after the test: a test changes it to change
 * what the next start does, never a clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';

export function behaviourFile(behaviour: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'clusterkit-'));
  onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  const file = join(directory, 'init-behaviour');
  writeFileSync(file, behaviour);
  return file;
}
