/**
 * PM2 runs a command found on PATH as its script (`script: 'npm', args: 'start'` in ecosystem
 * files, `pm2 start npm -- start`); clusterkit's workers import a Node script, so such a name is
 * a file not found: say what to name instead.
 */
import { basename } from 'node:path';

const kCommands = new Set(['npm', 'npx', 'yarn', 'pnpm', 'bun', 'node']);

/** `: clusterkit runs a Node script...` (a sentence's end) when `script`, as written, is such a command; else ''. */
export function commandScriptHint(script: string): string {
  if (script !== basename(script) || !kCommands.has(script)) return '';
  const runs = script === 'node' ? '"node <file>" runs' : `"${script} start" runs (package.json's scripts.start: for "node server.js", ./server.js)`;
  return `: clusterkit runs a Node script, not a command from PATH. Name the file ${runs} instead, with that file's own arguments.`;
}
