import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterPairs, labelMatches, matchAll } from './filters.js';

const bad = (f: string) => new Error(`bad ${f}`);

test('filterPairs: the CLI form and the API form give the same pairs, in order', () => {
  assert.deepEqual(filterPairs(['name=web', 'label=a=b', 'name=db'], bad), [
    ['name', 'web'],
    ['label', 'a=b'],
    ['name', 'db'],
  ]);
  assert.deepEqual(filterPairs({ name: ['web', 'db'], label: ['a=b'] }, bad), [
    ['name', 'web'],
    ['name', 'db'],
    ['label', 'a=b'],
  ]);
  assert.deepEqual(filterPairs(undefined, bad), []);
  assert.deepEqual(filterPairs(['name='], bad), [['name', '']]);
});

test('filterPairs: a flag without "=" is the caller\'s error (an empty key is the use case\'s); check sees each filter as it is read', () => {
  assert.throws(() => filterPairs(['bogus'], bad), /^Error: bad bogus$/);
  assert.deepEqual(filterPairs(['=x'], bad), [['', 'x']]);
  const seen: string[] = [];
  const check = (k: string, _v: string, text: string) => {
    seen.push(text);
    if (k === 'colour') throw new Error(`invalid ${text}`);
  };
  // The first wrong filter is the one reported, whichever way it is wrong.
  assert.throws(() => filterPairs(['name=a', 'colour=red', 'bogus'], bad, check), /invalid colour=red/);
  assert.deepEqual(seen, ['name=a', 'colour=red']);
  assert.throws(() => filterPairs({ colour: ['red'] }, bad, check), /invalid colour=red/);
});

test('matchAll: values of one key are alternatives, different keys must all hold', () => {
  const item = { name: 'web', driver: 'bridge' };
  const match = (k: string, v: string, i: typeof item) => i[k as keyof typeof item] === v;
  assert.equal(matchAll([], item, match), true);
  assert.equal(matchAll([['name', 'db'], ['name', 'web']], item, match), true);
  assert.equal(matchAll([['name', 'web'], ['driver', 'host']], item, match), false);
  assert.equal(matchAll([['name', 'db'], ['driver', 'bridge']], item, match), false);
});

test('labelMatches: KEY is there, or KEY=VALUE has that value (the value may hold "=")', () => {
  const labels = { app: 'web', empty: '', eq: 'a=b' };
  assert.equal(labelMatches(labels, 'app'), true);
  assert.equal(labelMatches(labels, 'app=web'), true);
  assert.equal(labelMatches(labels, 'app=db'), false);
  assert.equal(labelMatches(labels, 'empty='), true);
  assert.equal(labelMatches(labels, 'eq=a=b'), true);
  assert.equal(labelMatches(labels, 'eq=a'), false);
  assert.equal(labelMatches(labels, 'missing'), false);
  // Only the labels' own keys: not what every object inherits.
  assert.equal(labelMatches(labels, 'constructor'), false);
});
