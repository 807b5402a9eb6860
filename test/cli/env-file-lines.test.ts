/**
 * An env file loses no variable without a word (H316): Node 20's `util.parseEnv` stops at a
 * line with an empty name (`=value`), so every variable after it was gone and nothing was said
 * (hostile t33 M2). Each line that is not blank, not a comment and not inside a quoted value
 * is a variable or an error naming its line; what parses correctly still does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { readEnvFile } from '../../src/cli/env-values.js';
import { EnvFileError, UsageError } from '../../src/cli/usage-error.js';
import { cleanUpCli, cli, runtimeDir, tempProject } from './cli-process.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  cleanUpCli();
});

/** `text` read as an env file: its variables, or the error's message. */
function read(text: string): Record<string, string> | string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-envlines-'));
  directories.push(directory);
  writeFileSync(join(directory, 't.env'), text);
  try {
    return readEnvFile(join(directory, 't.env'), '--env-file');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message.replace(`${directory}/`, '');
  }
}

describe('env files: every line a variable or a named error [H316]', () => {
  // [H575] The NUL's place in the value (before: "contains a NUL byte." alone).
  it('[H316][H575] refuses a line with no name, no "=" or a bad name, with its line number', () => {
    expect(read('A=1\n=nv\nLAST=x\n')).toBe('--env-file t.env line 2: "=…" has no variable name before "="; write NAME=value, or remove the line.');
    expect(read('A=1\n  =\nLAST=x')).toBe('--env-file t.env line 2: "=…" has no variable name before "="; write NAME=value, or remove the line.');
    expect(read('A=1\r\nB\r\nLAST=x\r\n')).toBe('--env-file t.env line 2: the line (one word of 1 character, not shown: it may be a value) is not NAME=value: write NAME=value, start the line with # to make it a comment, or remove it.');
    expect(read('A=1\n\nB C=2\n')).toMatch(/^--env-file t\.env line 3: "B …" does not start with a variable name/);
    // A tab before a quote is no quote to Node: the value is one line, and the next line is no variable.
    expect(read('A=\t"x\ny"\nB=1\n')).toMatch(/^--env-file t\.env line 2: the line \(one word of 2 characters, not shown: it may be a value\) is not NAME=value/);
    expect(read('__proto__=1\n')).toMatch(/^--env-file t\.env line 1: "__proto__" cannot be a variable name here/);
    expect(read(`A=1\nB=x\0y\n`)).toBe('--env-file t.env line 2: the value of B contains a NUL byte (U+0000, at character 2), which no variable can hold.');
  });

  it('[H316] reads what parsed before as it did, and the lines Node 20 mangled as they are written', () => {
    expect(read('export A=1\r\nB="two words"\r\n# note\nC=\'single\'\nD=`back`\nA=2\nE=last')).toEqual({ A: '2', B: 'two words', C: 'single', D: 'back', E: 'last' });
    expect(read('M="multi\n=not a name\nline"\nN=1 # comment\nO=\n')).toEqual({ M: 'multi\n=not a name\nline', N: '1', O: '' });
    // An unclosed quote is refused now (H385): Node kept it in the value.
    // Node 20 read "\nB" and "# c\nD" as names after a line of spaces or an indented comment,
    // and a comment on the last line without a newline as a variable "#c".
    expect(read('A=1\n  \t \nB=2\n  # c\nD=3\n\tE=4\n  export  F=5\n#c=x')).toEqual({ A: '1', B: '2', D: '3', E: '4', F: '5' });
    expect(read('')).toEqual({});
  });

  it('[H385] refuses a value Node would change without a word: an unclosed quote, text after the closing quote; the value is never shown', () => {
    // Before: {"U":"\"unterminated"}, {"T":"a"}, {"S":"it"}, {"W":"x\\"}.
    expect(read('A=1\nU="unterminated\nV=1\n')).toBe(
      '--env-file t.env line 2: the value of U opens a " quote that no later line closes, so Node\'s env-file parser would keep the quote as part of the value. Close the quote, or remove it.',
    );
    expect(read('T="a" trailing\n')).toBe(
      '--env-file t.env line 1: the value of T has text after its closing " quote, which Node\'s env-file parser drops (it keeps only what the quotes enclose). Quote the whole value (a " inside it needs another kind of quote around it: \'), or start a comment with #.',
    );
    expect(read("A=1\nS='it''s'\n")).toMatch(/^--env-file t\.env line 2: the value of S has text after its closing ' quote, which Node's env-file parser drops [^\n]*: "\), or start a comment with #\.$/);
    expect(read('W="x\\"y"\n')).toMatch(/^--env-file t\.env line 1: the value of W has text after its closing " quote/);
    // A multi-line value's closing line, named by its own number.
    expect(read('M="one\ntwo" tail\nB=2\n')).toMatch(/^--env-file t\.env line 2: the value of M has text after its closing " quote/);
    expect(read('Q=`open\n')).toMatch(/^--env-file t\.env line 1: the value of Q opens a ` quote that no later line closes/);
    for (const text of [read('T="secret-a" trailing-b\n'), read('U="secret-c\n')]) expect(text).not.toMatch(/secret|trailing/);
    // Still read: spaces or a comment after the closing quote, a quote inside an unquoted value.
    expect(read('A="a"   \nB=\'b\' # note\nC="c"#x\nD=x "y" z\nE="m\nn"  # end\n')).toEqual({ A: 'a', B: 'b', C: 'c', D: 'x "y" z', E: 'm\nn' });
  });

  it('[H316][H328] clusterkit run still exits 2 on an --env-file or an envFile with a nameless line, naming its line', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'idle.mjs': 'setInterval(() => {}, 1000);\n',
      't.env': 'A=1\n=nv\nLAST=x\n',
      'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'cfg', script: 'idle.mjs', envFile: 't.env' }] }),
    });
    const flag = await cli(['run', 'idle.mjs', '--name', 'envlines', '-w', '1', '--env-file', 't.env'], { runtime, cwd: project });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(`clusterkit: --env-file ${join(project, 't.env')} line 2: "=…" has no variable name before "="; write NAME=value, or remove the line.`);
    expect(flag.stdout).not.toMatch(/started/);
    // An EnvFileError is a UsageError: the command's usage follows, as for any bad input.
    expect(flag.stderr).toMatch(/Usage: clusterkit run/i);
    const config = await cli(['run'], { runtime, cwd: project });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain(`"apps[0].envFile" ${join(project, 't.env')} line 2: "=…" has no variable name before "="`);
  });

  it('[H328] every usage failure has a stable code: ERR_USAGE, and ERR_ENV_FILE with the file, its line and the cause for an env file', () => {
    const usage = new UsageError('bad flag', 'run');
    expect(usage).toMatchObject({ name: 'UsageError', code: 'ERR_USAGE', command: 'run', headline: 'bad flag' });
    expect(new UsageError('x', 'run', [], { cause: 'why' }).cause).toBe('why');

    const directory = mkdtempSync(join(tmpdir(), 'ck-envcode-'));
    directories.push(directory);
    const path = join(directory, 't.env');
    const thrown = (run: () => unknown): EnvFileError => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(EnvFileError);
        expect(error).toBeInstanceOf(UsageError); // exit 2, with the command's usage
        return error as EnvFileError;
      }
      throw new Error('no error');
    };
    writeFileSync(path, 'A=1\n=nv\n');
    expect(thrown(() => readEnvFile(path, '--env-file'))).toMatchObject({ name: 'EnvFileError', code: 'ERR_ENV_FILE', path, line: 2, command: 'run' });
    writeFileSync(path, 'A=1\nB=x\0y\n');
    expect(thrown(() => readEnvFile(path, '--env-file'))).toMatchObject({ code: 'ERR_ENV_FILE', line: 2, message: `--env-file ${path} line 2: the value of B contains a NUL byte (U+0000, at character 2), which no variable can hold.` });
    writeFileSync(path, '1A=x\n');
    expect(thrown(() => readEnvFile(path, '--env-file'))).toMatchObject({ code: 'ERR_ENV_FILE', line: 1 });
    // The whole file: missing (the system's error is the cause), or no regular file.
    const missing = thrown(() => readEnvFile(join(directory, 'none.env'), '--env-file'));
    expect(missing).toMatchObject({ code: 'ERR_ENV_FILE', path: join(directory, 'none.env'), line: undefined });
    expect(missing.message).toBe(`--env-file: cannot read ${join(directory, 'none.env')} (ENOENT).`);
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(thrown(() => readEnvFile(directory, '--env-file'))).toMatchObject({ code: 'ERR_ENV_FILE', path: directory, line: undefined });
  });
});
