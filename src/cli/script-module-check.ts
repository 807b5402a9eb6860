/**
 * A script that no start of `clusterkit run` can load, whatever the retries: told once, before
 * any worker forks (exit 2), with what to do, instead of each worker failing on Node's own words
 * until its slot is given up (H411, H412). Checked as `node script` would run it (script-loader.ts):
 *
 * - import/export syntax in a file that Node runs as CommonJS: a `.cjs` file, a `.js` file under
 *   a package.json with "type": "commonjs" (without a "type", Node finds the syntax and runs the
 *   file as an ES module), or a file of an extension Node's ES module loader has no format for;
 * - a file of such an extension (`server.js.bak`) in a "type": "module" package, which Node
 *   refuses too (`Unknown file extension ".bak"`).
 *
 * Skipped when --import/--loader hooks (tsx) load the script: they decide its format.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { compileFunction } from 'node:vm';
import { hasUnknownExtension, isCommonJs, nearestPackage, usesLoaderHooks } from './script-loader.js';
import { UsageError } from './usage-error.js';

/** Larger scripts are not read here (a bundle): the worker's own failure tells of them. */
const kMaxCheckedBytes = 8 * 1024 * 1024;

/** What V8 says of import or export syntax in a script compiled as CommonJS. */
const kModuleSyntax = /^(?:Cannot use import statement outside a module|Unexpected token 'export')$/;

export function checkScriptModuleSyntax(script: string, nodeArgs: readonly string[], nodeOptions: string | undefined): void {
  if (usesLoaderHooks([...process.execArgv, ...nodeArgs], nodeOptions)) return;
  const found = nearestPackage(dirname(script));
  const extension = extname(script);
  const name = basename(script);
  // `server.js.bak` becomes `server.mjs` or `server.cjs`, not `server.js.mjs`.
  const withoutExtension = name.slice(0, name.length - extension.length);
  const stem = hasUnknownExtension(script) && ['.js', '.mjs', '.cjs'].includes(extname(withoutExtension)) ? withoutExtension.slice(0, -extname(withoutExtension).length) : withoutExtension;
  if (hasUnknownExtension(script) && found?.type === 'module') {
    throw new UsageError(
      `The script ${script} has the extension "${extension}", which Node has no format for: it runs such a file as CommonJS, but not in a "type": "module" package (${found.path}), where node ${name} fails with "Unknown file extension" too, and so would every worker. ` +
        `Rename it ${stem}.cjs if it is CommonJS, or ${stem}.mjs if it is an ES module.`,
      'run',
    );
  }
  if (!isCommonJs(script)) return;
  // A .js file in a package without "type": Node detects the syntax and runs it as an ES module.
  if (extension === '.js' && found?.type === undefined) return;
  const syntax = moduleSyntaxOf(script);
  if (syntax === undefined) return;
  const why =
    extension === '.cjs'
      ? 'a .cjs file is CommonJS whatever package.json says'
      : extension === '.js'
        ? `the nearest package.json (${found!.path}) has "type": "commonjs"`
        : `a file of the extension "${extension}" is CommonJS to Node`;
  const setType = extension === '.js' ? `, or set "type": "module" in ${found!.path} (then every .js file of that package is an ES module)` : '';
  throw new UsageError(
    `The script ${script} is an ES module (it has ${syntax}), but Node runs it as CommonJS: ${why}, so node ${name} fails too, and so would every worker. ` +
      `Rename it ${stem}.mjs (a .mjs file is an ES module whatever package.json says)${setType}.`,
    'run',
  );
}

/** `an import statement` or `an export statement` when `script` does not compile as CommonJS for that reason. */
function moduleSyntaxOf(script: string): string | undefined {
  let source: string;
  try {
    if (statSync(script).size > kMaxCheckedBytes) return undefined;
    source = readFileSync(script, 'utf8');
  } catch {
    return undefined; // the worker's load says what is wrong with the file
  }
  try {
    // As Node's CommonJS loader compiles it: wrapped in a function, without a BOM or a #! line.
    compileFunction(source.replace(/^\uFEFF/, '').replace(/^#!.*/, ''), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: script });
    return undefined;
  } catch (error) {
    const message = error instanceof SyntaxError ? error.message : '';
    if (!kModuleSyntax.test(message)) return undefined;
    return message.startsWith('Cannot use import') ? 'an import statement' : 'an export statement';
  }
}
