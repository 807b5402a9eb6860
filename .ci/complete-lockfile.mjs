// The registry proxy of this workplace serves only some platform builds of
// @unrs/resolver-binding-* (Jest 30's resolver), so `npm install` leaves the others out of
// package-lock.json and `npm ci` then refuses the lock file. A lock file written against the
// public registry lists every platform build with its os/cpu, and npm ci skips those that do
// not match without downloading them. This restores those entries; run it after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const platform = /^@unrs\/resolver-binding-(android|darwin|freebsd|linux|openharmony|win32)-(arm64|arm|x64|ia32|loong64|ppc64|riscv64|s390x)(?:-(\w+))?$/;
let added = 0;
for (const [where, meta] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const match = name.match(platform);
    if (packages[key] || packages[`${where}/${key}`] || !match) continue;
    const [, os, cpu, abi] = match;
    const entry = { version, cpu: [cpu], dev: meta.dev ?? undefined, license: 'MIT', optional: true, os: [os] };
    if (abi && /musl/.test(abi)) entry.libc = ['musl'];
    else if (abi && /gnu/.test(abi)) entry.libc = ['glibc'];
    packages[key] = entry;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
