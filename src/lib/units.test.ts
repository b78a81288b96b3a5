import assert from 'node:assert/strict';
import { test } from 'node:test';
import { naturalCompare } from './natural.js';
import { goTime, humanSize } from './units.js';

test('humanSize: decimal units, 3 significant digits or as asked', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(1984000), '1.98MB');
  assert.equal(humanSize(1984000, 4), '1.984MB');
  assert.equal(humanSize(125000), '125kB');
});

test("goTime: Go's time.Time.String() in UTC", () => {
  assert.equal(goTime(Date.parse('2026-05-07T20:33:45Z')), '2026-05-07 20:33:45 +0000 UTC');
  assert.equal(goTime('2026-12-04T21:17:33.890Z'), '2026-12-04 21:17:33.89 +0000 UTC');
});

test('naturalCompare: numbers in names by value', () => {
  assert.deepEqual(['v10', 'v2', 'v1', 'a'].sort(naturalCompare), ['a', 'v1', 'v2', 'v10']);
});
