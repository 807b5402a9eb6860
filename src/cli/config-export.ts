/**
 * A config file run as a script: `clusterkit run ecosystem.js`, where the file holds
 * `module.exports = { apps: [...] }`. Its name does not say it is a config (run-flags.ts reads
 * `*.config.js` and `*.json` as configs, as PM2 does), so the worker runs it, and it serves
 * nothing. Its export says what it is: once the worker has loaded the script, it looks at what
 * the script exports (its `apps` and their `script` are read, nothing is run again; a getter or
 * Proxy that throws is taken as "not a config"), and the worker of slot 0 says so on stderr. It is a warning, not a failure: a script
 * may export such an object and serve too.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { kSlotEnv } from '../worker-env.js';
import { writeOwnLine } from '../line-start.js';

/**
 * The warning for `script`, whose module namespace is `namespace` (undefined for a CommonJS
 * script run as the main module: its `module.exports` is then read from the require cache),
 * if it exports a config (`{ apps: [{ script, ... }] }`); else undefined.
 */
export function configExportWarning(script: string, namespace: unknown): string | undefined {
  try {
    const exported = namespace === undefined ? requiredExports(script) : (namespace as { default?: unknown }).default;
    if (!isConfig(exported)) return undefined;
  } catch {
    return undefined;
  }
  const shown = relative(process.cwd(), script).startsWith('..') ? script : relative(process.cwd(), script);
  return `clusterkit: ${shown} exports { apps: [...] }: it is a config file, not a script, and its apps are not started. Stop this and run them with: clusterkit run -c ${shown}`;
}

/** Writes the warning of `configExportWarning`, from the worker of slot 0 only (one line, not one per worker). */
export function warnOfConfigExport(script: string, namespace: unknown): void {
  if (process.env[kSlotEnv] !== '0') return;
  const warning = configExportWarning(script, namespace);
  if (warning !== undefined) writeOwnLine(process.stderr, `${warning}\n`);
}

/** The main module is cached under its real path (Node resolves links unless --preserve-symlinks-main). */
function requiredExports(script: string): unknown {
  const cache = createRequire(import.meta.url).cache;
  return (cache[script] ?? cache[realpathSync(script)])?.exports;
}

function isConfig(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const apps = (value as { apps?: unknown }).apps;
  if (!Array.isArray(apps) || apps.length === 0) return false;
  return apps.every((app) => typeof app === 'object' && app !== null && typeof (app as { script?: unknown }).script === 'string');
}
