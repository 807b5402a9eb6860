/**
 * readSmallFile reads the CLI's config and env files: UTF-16 text is refused as such, not
 * decoded into an unreadable token for the parser to quote.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { readSmallFile } from '../../src/cli/read-small-file.js';
import { readEnvFile } from '../../src/cli/env-values.js';
import { loadConfigFile } from '../../src/cli/config/config-file.js';

let directory: string | undefined;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

function fileOf(name: string, bytes: Buffer): string {
  directory ??= mkdtempSync(join(tmpdir(), 'ck-small-'));
  const path = join(directory, name);
  writeFileSync(path, bytes);
  return path;
}

describe('readSmallFile', () => {
  it('[H602] refuses UTF-16 text, with or without its byte order mark, and says to save it as UTF-8', () => {
    const json = '{ "apps": [{ "script": "server.js" }] }';
    // t60 LOW: PowerShell 5's `>` writes UTF-16LE with a BOM; the error quoted an unreadable token.
    const le = fileOf('le.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]));
    expect(() => readSmallFile(le, 1024 * 1024, 'The config file')).toThrow(
      `The config file: ${le} is UTF-16 text (it begins with a UTF-16 byte order mark), not UTF-8 text; save it as UTF-8 (in PowerShell 5, write it with Out-File -Encoding utf8 rather than >).`,
    );
    const be = fileOf('be.json', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(json, 'utf16le').swap16()]));
    expect(() => readSmallFile(be, 1024 * 1024, 'The config file')).toThrow('is UTF-16 text (it begins with a UTF-16 byte order mark), not UTF-8 text');
    const bare = fileOf('bare.json', Buffer.from(json, 'utf16le'));
    expect(() => readSmallFile(bare, 1024 * 1024, 'The config file')).toThrow(`The config file: ${bare} holds NUL bytes (39 of its first 78 bytes): it is UTF-16 text or binary, not UTF-8 text; save it as UTF-8`);
    // An env file alike, as its own error class.
    const env = fileOf('.env', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('PORT=3000\n', 'utf16le')]));
    expect(() => readEnvFile(env, '--env-file')).toThrow(expect.objectContaining({ code: 'ERR_ENV_FILE', message: expect.stringContaining(`--env-file: ${env} is UTF-16 text`) }));
    // UTF-8, with its BOM or not, is read as it is.
    expect(readSmallFile(fileOf('ok.json', Buffer.from(`\uFEFF${json}`)), 1024, 'The config file')).toBe(`\uFEFF${json}`);
    expect(readEnvFile(fileOf('ok.env', Buffer.from('PORT=3000\nNAME=été\n')), '--env-file')).toEqual({ PORT: '3000', NAME: 'été' });
  });

  it('[H602] a JavaScript config file saved as UTF-16 is refused as such too, not as a syntax error (retest t61)', async () => {
    const cjs = fileOf('ecosystem.config.cjs', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("module.exports = { apps: [{ script: 'server.js' }] };", 'utf16le')]));
    await expect(loadConfigFile(cjs)).rejects.toThrow(`The config file: ${cjs} is UTF-16 text (it begins with a UTF-16 byte order mark), not UTF-8 text; save it as UTF-8`);
    const mjs = fileOf('clusterkit.config.mjs', Buffer.from("export default { apps: [{ script: 'server.js' }] };", 'utf16le'));
    await expect(loadConfigFile(mjs)).rejects.toThrow(`The config file: ${mjs} holds NUL bytes (`);
    // A JavaScript config's own syntax error is still said as one.
    const broken = fileOf('broken.config.cjs', Buffer.from('module.exports = { apps: [ };'));
    await expect(loadConfigFile(broken)).rejects.toThrow(/^Cannot load the config file /);
  });
});
