/**
 * The package as npm publishes it: `npm pack` of the built repository, unpacked into the
 * node_modules of a fresh consumer project in a temporary directory, as `npm install` would
 * lay it out. Offline: the tarball is unpacked with tar, and the two dependencies the
 * declarations import (eventemitter3, p-timeout) are linked from the repository's
 * node_modules, so nothing is fetched.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kRepoRoot } from '../helpers/spawn.js';

const run = promisify(execFile);

export interface PackedPackage {
  /** The consumer project's directory. */
  readonly project: string;
  /** Where the package is unpacked: <project>/node_modules/clusterkit. */
  readonly root: string;
  /** Paths in the tarball, relative to the package root ("dist/index.js"). */
  readonly files: ReadonlySet<string>;
  readonly size: number;
  readonly unpackedSize: number;
  /** Removes the temporary directory. */
  remove(): void;
}

/** Packs the repository and unpacks the tarball into a new consumer project. */
export async function packIntoProject(): Promise<PackedPackage> {
  if (!existsSync(join(kRepoRoot, 'dist/index.js'))) throw new Error('dist/ is missing: run "npm run build" before the package tests.');
  const directory = mkdtempSync(join(tmpdir(), 'ck-pack-'));
  try {
    // --ignore-scripts: prepack would rebuild dist/ while other test files use it.
    const { stdout } = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', directory]);
    const [report] = JSON.parse(stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
    const project = join(directory, 'project');
    const root = join(project, 'node_modules', 'clusterkit');
    mkdirSync(root, { recursive: true });
    await run('tar', ['-xzf', join(directory, report!.filename), '-C', root, '--strip-components=1']);
    for (const dependency of ['eventemitter3', 'p-timeout']) {
      symlinkSync(join(kRepoRoot, 'node_modules', dependency), join(project, 'node_modules', dependency), 'dir');
    }
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
    return {
      project,
      root,
      files: new Set(report!.files.map((file) => file.path)),
      size: report!.size,
      unpackedSize: report!.unpackedSize,
      remove: () => rmSync(directory, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}

/** The version of a package installed in the repository's node_modules. */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(kRepoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** npm itself: the one running `npm test` when there is one, else npm on the PATH. */
function npm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const cli = process.env.npm_execpath;
  const options = { cwd: kRepoRoot, maxBuffer: 16 * 1024 * 1024 };
  return cli && /\.[cm]?js$/.test(cli) ? run(process.execPath, [cli, ...args], options) : run('npm', args, options);
}
