/** Go durations and times: RFC3339Nano out, and --since/--until values in as the docker CLI reads them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from './errors.js';
import { formatRfc3339Nano, parseDockerTime, parseGoDuration, parseRfc3339Ns } from './duration.js';

const S = 1_000_000_000n;

test('Go durations', () => {
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('500ms'), 5e8);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('10'), undefined);
});

test("RFC3339Nano as Go writes it: UTC, the fraction's trailing zeros dropped; fixed: nine digits", () => {
  assert.equal(formatRfc3339Nano(1700000000n * S + 500_000_000n), '2023-11-14T22:13:20.5Z');
  assert.equal(formatRfc3339Nano(1700000000n * S), '2023-11-14T22:13:20Z');
  assert.equal(formatRfc3339Nano(1700000000n * S + 1n), '2023-11-14T22:13:20.000000001Z');
  assert.equal(formatRfc3339Nano(1700000000n * S + 500_000_000n, true), '2023-11-14T22:13:20.500000000Z');
  assert.equal(formatRfc3339Nano(1700000000n * S, true), '2023-11-14T22:13:20.000000000Z');
});

test('RFC 3339 times read to the nanosecond, with a zone or in UTC', () => {
  assert.equal(parseRfc3339Ns('2023-11-14T22:13:20.123456789Z', false), 1700000000n * S + 123456789n);
  assert.equal(parseRfc3339Ns('2023-11-14T23:13:20+01:00', false), 1700000000n * S);
  assert.equal(parseRfc3339Ns('2023-11-14T22:13:20.5Z', false), 1700000000n * S + 500_000_000n);
  assert.equal(parseRfc3339Ns('2023-11-14', false), 1699920000n * S);
  assert.equal(parseRfc3339Ns('2023-13-14', false), undefined);
  assert.equal(parseRfc3339Ns('yesterday', false), undefined);
});

test('--since/--until: durations before now (whole seconds), unix times with a fraction, RFC 3339', () => {
  const now = 1700000100n * S + 700_000_000n;
  assert.equal(parseDockerTime('1m30s', now), 1700000010n * S);
  assert.equal(parseDockerTime('10s', now), 1700000090n * S);
  assert.equal(parseDockerTime('1700000000', now), 1700000000n * S);
  assert.equal(parseDockerTime('1700000000.5', now), 1700000000n * S + 500_000_000n);
  assert.equal(parseDockerTime('1700000000.000000001', now), 1700000000n * S + 1n);
  assert.equal(parseDockerTime('0', now), 0n);
  assert.equal(parseDockerTime('2023-11-14T22:13:20Z', now), 1700000000n * S);
  assert.equal(parseDockerTime('2023-11-14T22:13:20.25Z', now), 1700000000n * S + 250_000_000n);
});

test('--since/--until: what is none of them, with the docker CLI words', () => {
  assert.throws(
    () => parseDockerTime('bogus'),
    (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message === 'failed to parse value as time or duration: "bogus"',
  );
  assert.throws(() => parseDockerTime('2023-99-01'), (e: unknown) => isBerthError(e, 'InvalidArgument'));
});
