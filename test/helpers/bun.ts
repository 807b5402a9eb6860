/**
 * The Bun binary of the `bun` dev dependency: installed from the registry by `npm ci` (the
 * binary comes in a platform package such as @oven/bun-linux-x64), never downloaded at run time.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { kRepoRoot } from './spawn.js';

const require = createRequire(join(kRepoRoot, 'package.json'));

/**
 * Path of the bun executable. bun's postinstall moves the platform package's binary over the
 * placeholder `bun/bin/bun.exe`; with `--ignore-scripts` the binary stays in the platform
 * package, so both places are tried. Throws with what to do when neither has it.
 */
export function bunPath(): string {
  const candidates: string[] = [];
  const bunPackage = tryResolve('bun/package.json');
  if (bunPackage) candidates.push(join(dirname(bunPackage), 'bin', 'bun.exe'));
  for (const name of platformPackages()) {
    const manifest = tryResolve(`@oven/${name}/package.json`);
    if (manifest) candidates.push(join(dirname(manifest), 'bin', 'bun'));
  }
  // The placeholder is a tiny text file; the real binary is tens of megabytes.
  const found = candidates.find((path) => existsSync(path) && statSync(path).size > 1_000_000);
  if (found) return found;
  throw new Error(
    `No Bun binary in node_modules (looked at ${candidates.join(', ') || 'no bun package'}). ` +
      'bun is a dev dependency: run "npm ci" without --omit=optional so its platform package installs.',
  );
}

function platformPackages(): string[] {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
  return [`bun-${os}-${arch}`, `bun-${os}-${arch}-musl`, `bun-${os}-${arch}-baseline`];
}

function tryResolve(specifier: string): string | undefined {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
}
