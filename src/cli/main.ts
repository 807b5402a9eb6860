#!/usr/bin/env node
/**
 * The `clusterkit` executable (package.json `bin`). See `clusterkit --help` and docs/cli.md.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdStartSignals } from './start-signals.js';

// First, before the rest of the CLI loads (its own bundle, dist/cli/run-cli.js): a signal in a
// run's first seconds is handled, not a silent death (start-signals.ts).
if (process.argv[2] === 'run') holdStartSignals();
const { runCli } = await import('./run-cli.js');

// The bootstrap sits next to this file: dist/cli/worker-main.js, or src/cli/worker-main.ts
// when run from source through tsx.
const here = fileURLToPath(import.meta.url);
const workerMain = fileURLToPath(new URL(`./worker-main${extname(here)}`, import.meta.url));

process.exitCode = await runCli(process.argv.slice(2), { workerMain, version: packageVersion(), mainScript: here });

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
