import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile } from './dockerfile.js';
import { expandVariables, processWord, processWords } from './shell-lex.js';

describe('Dockerfile parser', () => {
  it('joins continuations, skips comments and blank lines inside them, and keeps line numbers', () => {
    const df = parseDockerfile('# a comment\nFROM busybox\n\nRUN echo a \\\n# inside\n\n    && echo b\nrun   echo c  \n');
    assert.deepEqual(
      df.instructions.map((i) => [i.cmd, i.args, i.line, i.endLine]),
      [
        ['FROM', 'busybox', 2, 2],
        ['RUN', 'echo a     && echo b', 4, 7],
        ['RUN', 'echo c', 8, 8],
      ],
    );
  });

  it('reads the escape and syntax directives only at the top', () => {
    const df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\n');
    assert.equal(df.escape, '`');
    assert.equal(df.syntax, 'docker/dockerfile:1');
    assert.equal(df.instructions[1]!.args, 'echo a   b');
    const late = parseDockerfile('FROM busybox\n# escape=`\nRUN echo a \\\n b\n');
    assert.equal(late.escape, '\\');
    assert.equal(late.instructions[1]!.args, 'echo a  b');
    assert.throws(() => parseDockerfile('# escape=x\nFROM a\n'), /Dockerfile:1: invalid escape token/);
  });

  it('recognises the JSON form and leading flags', () => {
    const df = parseDockerfile('FROM a\nCOPY --chown=1:2 --link ["a b", "c"]\nCMD ["x", "y"]\nCMD [not json\n');
    const copy = df.instructions[1]!;
    assert.deepEqual(copy.flags, [
      { name: 'chown', value: '1:2' },
      { name: 'link', value: undefined },
    ]);
    assert.deepEqual(copy.json, ['a b', 'c']);
    assert.deepEqual(df.instructions[2]!.json, ['x', 'y']);
    assert.equal(df.instructions[3]!.json, undefined);
  });

  it('reads heredocs after RUN and COPY (quoted terminators are not expanded; <<- strips tabs)', () => {
    const df = parseDockerfile('FROM a\nRUN <<EOF\necho 1\necho 2\nEOF\nCOPY <<-"X" /f\n\tline $A\n\tX\nENV A=1\n');
    const [, run, copy, env] = df.instructions;
    assert.deepEqual(run!.heredocs, [{ name: 'EOF', content: 'echo 1\necho 2\n', expand: true, chomp: false }]);
    assert.deepEqual(copy!.heredocs, [{ name: 'X', content: 'line $A\n', expand: false, chomp: true }]);
    assert.equal(env!.line, 9);
    assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\necho\n'), /Dockerfile:2: unterminated heredoc EOF/);
  });

  it('names the file and line of an unknown instruction', () => {
    assert.throws(() => parseDockerfile('FROM a\n\nFOO bar\n', 'x/Dockerfile.dev'), /^BerthError: x\/Dockerfile.dev:3: unknown instruction: FOO$/);
  });
});

describe('Dockerfile word processing', () => {
  const env = (m: Record<string, string>) => (k: string) => m[k];
  const e = env({ A: 'a', EMPTY: '', SP: 'x y' });

  it('substitutes $VAR, ${VAR} and the :- :+ - + forms', () => {
    assert.equal(processWord('$A ${A}b', e), 'a ab');
    assert.equal(processWord('${NO:-def} ${EMPTY:-def} ${EMPTY-def} ${NO-def}', e), 'def def  def');
    assert.equal(processWord('${A:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${NO+alt}', e), 'alt  alt ');
    assert.equal(processWord('${NO:-${A}x}', e), 'ax');
    assert.throws(() => processWord('${NO:?is required}', e), /NO: is required/);
  });

  it('keeps single-quoted text, escapes and a lone $ literal, and removes quotes', () => {
    assert.equal(processWord(`'$A' "$A" \\$A $ a$`, e), '$A a $A $ a$');
    assert.equal(processWord('"a \\"b\\" c"', e), 'a "b" c');
    assert.equal(processWord('`$A', e, '`'), '$A');
  });

  it('splits words on unquoted white space, and unquoted expansions too', () => {
    assert.deepEqual(processWords('a "b c" $SP d', e), ['a', 'b c', 'x', 'y', 'd']);
    assert.deepEqual(processWords('"$SP"', e), ['x y']);
  });

  it('expands only variables in heredoc contents', () => {
    assert.equal(expandVariables(`say "$A" '\${NO:-d}' \\$A`, e), `say "a" 'd' $A`);
  });
});
