/** Signals as Docker reads them: names with or without SIG in any case, and numbers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from './errors.js';
import { dockerSignal, signalNumber } from './signal.js';

test('names, bare names, lower case and numbers', () => {
  for (const s of ['USR1', 'SIGUSR1', 'usr1', 'sigusr1', '10']) assert.equal(dockerSignal(s), 10, s);
  assert.equal(dockerSignal('HUP'), 1);
  assert.equal(dockerSignal('1'), 1);
  assert.equal(dockerSignal(15), 15);
  assert.equal(dockerSignal('RTMIN+3'), 37);
  assert.equal(signalNumber('SIGRTMAX'), 64);
});

test("what is no signal: Docker's 'Invalid signal: X'", () => {
  for (const bad of ['FOO', '0', '65', '', '-1', 'SIG']) {
    assert.throws(
      () => dockerSignal(bad),
      (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message === `Invalid signal: ${bad}`,
      JSON.stringify(bad),
    );
  }
  assert.throws(() => dockerSignal(0), /Invalid signal: 0/);
});
