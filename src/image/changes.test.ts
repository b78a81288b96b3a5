/** --change instructions as dockerd applies them to a commit's or an import's config. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.js';
import { isBerthError } from '../lib/errors.js';

const base = { Env: ['PATH=/bin', 'FOO=bar'], Cmd: ['sh'], WorkingDir: '/tmp' };
/** $NAME and ${NAME} from the lookup (the engine passes the builder's shell lexer). */
const expand = (text: string, lookup: (n: string) => string | undefined) => text.replace(/\$\{?(\w+)\}?/g, (_, n: string) => lookup(n) ?? '');

test('ENTRYPOINT drops the CMD unless a CMD came before it', () => {
  assert.equal(applyChanges(base, ['ENTRYPOINT ["x"]']).Cmd, null);
  assert.deepEqual(applyChanges(base, ['CMD ["y"]', 'ENTRYPOINT ["x"]']).Cmd, ['y']);
  assert.deepEqual(applyChanges(base, ['ENTRYPOINT x']).Entrypoint, ['/bin/sh', '-c', 'x']);
});

test('a relative WORKDIR joins the current one; variables expand from the config', () => {
  assert.equal(applyChanges(base, ['WORKDIR rel']).WorkingDir, '/tmp/rel');
  assert.equal(applyChanges(base, ['WORKDIR /a/../b']).WorkingDir, '/b');
  assert.deepEqual(applyChanges(base, ['ENV A=$FOO:y'], expand).Env, ['PATH=/bin', 'FOO=bar', 'A=bar:y']);
  assert.equal(applyChanges(base, ['WORKDIR ${FOO}'], expand).WorkingDir, '/tmp/bar');
});

test('HEALTHCHECK: CMD forms, NONE, durations in nanoseconds', () => {
  assert.deepEqual(applyChanges(base, ['HEALTHCHECK CMD true']).Healthcheck, { Test: ['CMD-SHELL', 'true'] });
  assert.deepEqual(applyChanges(base, ['HEALTHCHECK --interval=5s --retries=2 CMD ["a","b"]']).Healthcheck, { Test: ['CMD', 'a', 'b'], Interval: 5e9, Retries: 2 });
  assert.deepEqual(applyChanges(base, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
});

test("an instruction dockerd's commit does not take is refused in its words", () => {
  for (const [line, word] of [
    ['STOPSIGNAL 9', 'stopsignal'],
    ['RUN true', 'run'],
    ['copy a b', 'copy'],
  ]) {
    assert.throws(() => applyChanges(base, [line!]), (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message === `${word} is not a valid change command`);
  }
});
