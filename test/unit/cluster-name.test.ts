/**
 * [H260] Cluster names: any PM2 app name, and one injective, reversible file-name form for the
 * control socket and lock file; hostile names refused with the rule and a name to use.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { clusterNameProblem, describeBadName, fileNameOf, nameFromFile, nameOfFile, suggestClusterName } from '../../src/control/cluster-name.js';
import { checkClusterName, socketNames, socketPathFor } from '../../src/control/runtime-dir.js';
import { ClusterNotRunningError, InvalidOptionError } from '../../src/errors.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const kPm2Names = ['Billing API', 'api@v2', 'api:v2', 'ümlaut', 'my worker (copy)', 'ÿ', '支付服务', 'a%20b', '.hidden', 'web-1.blue', 'x'.repeat(64), "it's", 'a+b=c'];

describe('[H260] cluster names', () => {
  it('[H260] PM2 app names are cluster names, and map to file names injectively and reversibly', () => {
    const files = new Set<string>();
    for (const name of kPm2Names) {
      expect({ name, problem: clusterNameProblem(name) }).toEqual({ name, problem: undefined });
      expect(checkClusterName(name)).toBe(name);
      const file = fileNameOf(name);
      expect(file).toMatch(/^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/);
      expect(nameOfFile(file)).toBe(name);
      files.add(file);
    }
    expect(files.size).toBe(kPm2Names.length);
    // The names allowed before keep their socket's path; a space or "%" is escaped, so "a b" and "a%20b" differ.
    expect(fileNameOf('web-1.blue')).toBe('web-1.blue');
    expect(fileNameOf('Billing API')).toBe('Billing%20API');
    expect(fileNameOf('a%20b')).toBe('a%2520b');
    expect(fileNameOf('.hidden')).toBe('%2Ehidden');
    // Only the spelling fileNameOf writes is read back.
    expect(nameOfFile('a%41')).toBeUndefined();
    expect(nameOfFile('%2F')).toBeUndefined();
    expect(nameOfFile('%FF')).toBeUndefined();
  });

  it('[H260] a name in NFD is the NFC name', () => {
    expect(checkClusterName('u\u0308mlaut')).toBe('ümlaut');
  });

  it('[H260] hostile names are refused, with the rule and a name to use', () => {
    const hostile: [string, RegExp, string | undefined][] = [
      ['../x', /it has a "\/"/, 'x'],
      ['a/b', /it has a "\/"/, 'a-b'],
      ['a\\b', /it has a "\\\\"/, 'a-b'],
      ['a\0b', /a control character \(U\+0000\)/, 'a-b'],
      ['a\nb', /a control character \(U\+000A\)/, 'a-b'],
      ['a\x1b[2Jb', /a control character \(U\+001B\)/, 'a-[2Jb'],
      ['evil\u202Egnp', /an invisible character \(U\+202E\)/, 'evil-gnp'],
      ['', /it is empty/, undefined],
      ['-dash', /it starts with "-"/, 'dash'],
      [' api ', /it starts or ends with a space/, 'api'],
      ['x'.repeat(65), /it has 65 characters/, 'x'.repeat(64)],
    ];
    for (const [name, problem, suggestion] of hostile) {
      expect({ name, problem: clusterNameProblem(name) }).toEqual({ name, problem: expect.stringMatching(problem) });
      expect(suggestClusterName(name)).toBe(suggestion);
      if (suggestion !== undefined) expect(clusterNameProblem(suggestion)).toBeUndefined();
      const message = describeBadName(name);
      expect(message).toContain('a cluster name is 1 to 64 characters');
      expect(message).toContain(`Try ${JSON.stringify(suggestion ?? 'app')}.`);
      expect(() => checkClusterName(name)).toThrow(InvalidOptionError);
      expect(() => socketPathFor(name, '/run/ck')).toThrow(InvalidOptionError);
    }
  });

  it('[H260] every socket stays in the control directory, and list reads the names back', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-names-'));
    directories.push(directory);
    const names = ['Billing API', 'api@v2', 'ÿ', '.hidden', 'api'];
    for (const name of names) {
      const path = socketPathFor(name, directory);
      expect(relative(directory, path)).not.toMatch(/^\.\.|\//);
      writeFileSync(path, '');
    }
    // A file no name maps to is no cluster's.
    writeFileSync(join(directory, 'a%41.sock'), '');
    writeFileSync(join(directory, '..sock'), '');
    mkdirSync(join(directory, 'sub'));
    expect(socketNames(directory)).toEqual([...names].sort());
  });
});

describe('[H361] cluster names that look blank or like another', () => {
  // Before (retest t36 N4): '\u2800', 'api\u00a0v2' and 'api\u3164' were cluster names, the first
  // blank in `clusterkit list`, the others the same there as 'api v2' and 'api'.
  it('[H361] whitespace other than a space, blank-looking and default-ignorable characters are refused, with a name to use', () => {
    const refused: [string, string, string | undefined][] = [
      ['\u2800', 'it has a blank-looking character (U+2800), which would look like a space or nothing', undefined],
      ['api\u2800', 'it has a blank-looking character (U+2800)', 'api'],
      ['api\u00a0v2', 'it has a whitespace character other than a space (U+00A0)', 'api v2'],
      ['api\u3000\u3000v2', 'it has a whitespace character other than a space (U+3000)', 'api v2'],
      ['\u3000', 'it has a whitespace character other than a space (U+3000)', undefined],
      ['api\u3164', 'it has an invisible character (U+3164)', 'api'],
      ['\uffa0api', 'it has an invisible character (U+FFA0)', 'api'],
      ['api\ufe0f', 'it has an invisible character (U+FE0F)', 'api'],
    ];
    for (const [name, problem, suggestion] of refused) {
      expect({ name, problem: clusterNameProblem(name) }).toEqual({ name, problem: expect.stringContaining(problem) });
      expect({ name, suggestion: suggestClusterName(name) }).toEqual({ name, suggestion });
      expect(() => checkClusterName(name)).toThrow(`The "serviceName" option must be a cluster name (${clusterNameProblem(name)}; a cluster name is 1 to 64 characters`);
      expect(nameOfFile(fileNameOf(name))).toBeUndefined();
    }
    // A space between other characters is still a name; a name in NFD still is the NFC one.
    expect(clusterNameProblem('Billing API')).toBeUndefined();
    expect(checkClusterName('cafe\u0301')).toBe('caf\u00e9');
  });
});

describe('[H372] cluster names that start with a combining mark', () => {
  // Before (retest t37 N3): --name $'\u0301' ran, and listed as a blank name; a leading mark
  // joins what is shown before it (the column's padding in clusterkit list).
  it('[H361][H372] a name made of combining marks, or starting with one, is refused with the mark and a name to use; a mark after a letter or "-" is kept', () => {
    const refused: [string, string, string | undefined][] = [
      ['\u0301', 'it starts with a combining mark (U+0301), which would join what is shown before it and, alone, show as nothing', undefined],
      ['\u0301\u0302', 'it starts with a combining mark (U+0301), which would join what is shown before it and, alone, show as nothing', undefined],
      ['\u0301a', 'it starts with a combining mark (U+0301), which would join what is shown before it', 'a'],
      ['\u20dd-api', 'it starts with a combining mark (U+20DD)', 'api'],
      ['\u{1D165}x', 'it starts with a combining mark (U+1D165)', 'x'],
    ];
    for (const [name, problem, suggestion] of refused) {
      expect({ name, problem: clusterNameProblem(name) }).toEqual({ name, problem: expect.stringContaining(problem) });
      expect({ name, suggestion: suggestClusterName(name) }).toEqual({ name, suggestion });
      expect(() => checkClusterName(name)).toThrow(`The "serviceName" option must be a cluster name (${clusterNameProblem(name)}; a cluster name is 1 to 64 characters`);
      expect(() => checkClusterName(name)).toThrow('not starting with "-" (it would read as an option) or a combining mark (such as U+0301: it would join what is shown before it)');
      expect(nameOfFile(fileNameOf(name))).toBeUndefined();
    }
    expect(clusterNameProblem('\u0301a')).not.toContain('alone');
    expect(describeBadName('\u0301api')).toMatch(/^"\u0301api" is not a cluster name: it starts with a combining mark \(U\+0301\).* Try "api"\.$/);
    // A file name that starts with one gives the name without it, and says so.
    expect(nameFromFile('/srv/\u0301web.js')).toEqual({ name: 'web', note: expect.stringContaining('(it starts with a combining mark (U+0301)') });
    // A mark after another character is part of it: a name, as before.
    for (const name of ['rt-\u0301', 'x\u20dd', 'naïve', 'क्षत्रिय']) expect({ name, problem: clusterNameProblem(name) }).toEqual({ name, problem: undefined });
  });
});

describe('[H261] the name a script file gives', () => {
  it('[H261] the file name without its extension, as it is; an odd one is mapped and said; none is undefined', () => {
    expect(nameFromFile('/srv/my worker (copy).js')).toEqual({ name: 'my worker (copy)' });
    expect(nameFromFile('/srv/ÿ.js')).toEqual({ name: 'ÿ' });
    expect(nameFromFile('/srv/server.mjs')).toEqual({ name: 'server' });
    expect(nameFromFile('/srv/-x.js')).toEqual({ name: 'x', note: expect.stringMatching(/^named the cluster "x", as its script's file name "-x" is no cluster name as it is \(it starts with "-"\); choose its name with --name/) });
    expect(nameFromFile('/srv/---.js')).toEqual({ name: undefined });
  });
});

describe('[H280] only the extension goes', () => {
  // Before (PM2 retester t29 N7): the name stopped at the first dot, so api.v1.js and api.v2.js were both "api".
  it('[H280] api.v1.js is api.v1, as PM2 names it; a dot file keeps its name', () => {
    expect(nameFromFile('/srv/api.v1.js')).toEqual({ name: 'api.v1' });
    expect(nameFromFile('/srv/api.v2.js')).toEqual({ name: 'api.v2' });
    expect(nameFromFile('/srv/server.test.mjs')).toEqual({ name: 'server.test' });
    expect(nameFromFile('/srv/.hidden')).toEqual({ name: '.hidden' });
    expect(nameFromFile('/srv/app')).toEqual({ name: 'app' });
  });
});

describe('[H283] the names that run, quoted', () => {
  // Before (PM2 retester t29 N10b): `Running: a, b, c` for the names "a, b" and "c".
  it('[H283] "No cluster named" quotes each running name, so a name with ", " reads as one', () => {
    expect(new ClusterNotRunningError('web', ['a, b', 'c']).message).toBe('No cluster named "web" is running. Running: "a, b", "c".');
  });
});
