// Jest globalTeardown: removes the fixture bundles of this run (see global-setup.mjs).
import { rmSync } from 'node:fs';

export default function globalTeardown() {
  const out = process.env.CLUSTERKIT_TEST_FIXTURES;
  if (out) rmSync(out, { recursive: true, force: true });
}
