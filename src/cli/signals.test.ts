/** Signal names and numbers as `kill` takes them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../lib/errors.js';
import { parseSignal } from './signals.js';

test('names with or without SIG, any case, and numbers', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('kill'), 9);
  assert.equal(parseSignal('sigterm'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('1'), 1);
  assert.equal(parseSignal('64'), 64);
  assert.equal(parseSignal('HUP'), 1);
  assert.equal(parseSignal('USR1'), 10);
  assert.equal(parseSignal('WINCH'), 28);
});

test('real-time signals', () => {
  assert.equal(parseSignal('SIGRTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('rtmin+3'), 37);
});

test('unknown names and out-of-range numbers are invalid arguments', () => {
  for (const bad of ['NOPE', 'SIGNOPE', '0', '99', '65', '', '-9', '9x']) {
    assert.throws(
      () => parseSignal(bad),
      (e: unknown) => {
        assert.ok(isBerthError(e, 'InvalidArgument'), `${JSON.stringify(bad)}: ${String(e)}`);
        assert.match(e.message, /invalid signal/);
        assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
        return true;
      },
      JSON.stringify(bad),
    );
  }
});

test('real-time signals past the last signal (64) are invalid', () => {
  assert.equal(parseSignal('RTMIN+30'), 64);
  assert.throws(() => parseSignal('RTMIN+31'), /invalid signal/);
  assert.throws(() => parseSignal('SIGRTMIN+100'), /invalid signal/);
});
