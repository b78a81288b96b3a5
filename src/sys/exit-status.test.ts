import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseExitStatus } from './exit-status.js';

describe('parseExitStatus', () => {
  const t = '2026-12-04T18:21:21.123456789Z';
  test('an exit code with the time', () => {
    assert.deepEqual(parseExitStatus(`exit 3 ${t}`), { code: 3, finishedAt: t });
  });
  test('a signal with the core flag and the time', () => {
    assert.deepEqual(parseExitStatus(`signal 9 0 ${t}`), { code: 137, signal: 9, coreDumped: false, finishedAt: t });
    assert.deepEqual(parseExitStatus(`signal 11 1 ${t}`), { code: 139, signal: 11, coreDumped: true, finishedAt: t });
  });
  test("the lines of earlier helpers: a supervisor's core flag, a monitor's time", () => {
    assert.deepEqual(parseExitStatus('exit 0'), { code: 0 });
    assert.deepEqual(parseExitStatus('signal 6 1'), { code: 134, signal: 6, coreDumped: true });
    assert.deepEqual(parseExitStatus(`signal 15 ${t}`), { code: 143, signal: 15, coreDumped: false, finishedAt: t });
  });
  test('anything else is not an end', () => {
    for (const line of ['', 'pid 12', 'exit', 'exit x', 'signal', 'signal 9 2', 'error 3 2 mount', 'exit 1 a b']) assert.equal(parseExitStatus(line), undefined, line);
  });
});
