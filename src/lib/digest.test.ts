/** Digests: parsing and its reasons, hashing, the streaming hasher, short ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isBerthError } from './errors.js';
import { Digester, DigestingPassThrough, digestAlgorithm, digestHex, digestOf, isDigest, parseDigest, sha256, shortId } from './digest.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HELLO = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

test('sha256 of bytes and strings', () => {
  assert.equal(sha256(''), EMPTY);
  assert.equal(sha256('hello'), HELLO);
  assert.equal(sha256(Buffer.from('hello')), HELLO);
  assert.equal(sha256(new Uint8Array(Buffer.from('hello'))), HELLO);
  assert.equal(digestOf('hello', 'sha512'), `sha512:${createHash('sha512').update('hello').digest('hex')}`);
});

test('parseDigest accepts sha256 and sha512, isDigest agrees', () => {
  const s512 = digestOf('x', 'sha512');
  for (const d of [EMPTY, HELLO, s512]) {
    assert.equal(parseDigest(d), d);
    assert.ok(isDigest(d));
  }
  assert.equal(digestAlgorithm(s512), 'sha512');
  assert.equal(digestHex(HELLO), HELLO.slice(7));
});

test('parseDigest rejects with the value quoted, `what` named and a reason', () => {
  const cases: [unknown, RegExp][] = [
    ['', /^layer digest "": not a digest/],
    ['sha256', /^layer digest "sha256": not a digest/],
    [HELLO.slice(7), /not a digest/],
    ['sha256:abc', /^layer digest "sha256:abc": a sha256 digest has 64 hex characters, not 3$/],
    [HELLO.toUpperCase().replace('SHA256', 'sha256'), /lowercase hex/],
    ['md5:' + 'a'.repeat(32), /unsupported digest algorithm "md5"/],
    ['sha512:' + 'a'.repeat(64), /a sha512 digest has 128 hex characters, not 64/],
    [HELLO + ' ', /not a digest/],
    [42, /^layer digest: not a digest: a number, not a string$/],
  ];
  for (const [input, re] of cases) {
    assert.equal(isDigest(input), false);
    assert.throws(() => parseDigest(input, 'layer digest'), (e: unknown) => isBerthError(e, 'InvalidArgument') && re.test(e.message), String(input));
  }
  assert.throws(() => parseDigest('nope'), (e: unknown) => isBerthError(e) && e.message.startsWith('digest "nope": '));
  assert.throws(() => digestHex('nope'), (e: unknown) => isBerthError(e, 'InvalidArgument'));
});

test('shortId is the first 12 hex characters', () => {
  assert.equal(shortId(HELLO), '2cf24dba5fb0');
  assert.equal(shortId(HELLO.slice(7)), '2cf24dba5fb0');
  assert.equal(shortId('abc'), 'abc');
});

test('Digester hashes incrementally and counts', () => {
  const d = new Digester();
  d.update(Buffer.from('hel')).update(Buffer.from('lo'));
  assert.equal(d.size, 5);
  assert.equal(d.digest(), HELLO);
  assert.equal(d.digest(), HELLO, 'digest() may be asked again');
  assert.throws(() => d.update(Buffer.from('x')), /after the digest/);
});

test('DigestingPassThrough hashes what flows through and passes it on unchanged', async () => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  const hashing = new DigestingPassThrough();
  assert.throws(() => hashing.digest(), (e: unknown) => isBerthError(e, 'Internal'));
  const got: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      got.push(chunk);
      cb();
    },
  });
  const chunks = [data.subarray(0, 1000), data.subarray(1000, 2_000_000), data.subarray(2_000_000)];
  await pipeline(Readable.from(chunks), hashing, sink);
  assert.equal(hashing.size, data.length);
  assert.equal(hashing.digest(), sha256(data));
  assert.ok(Buffer.concat(got).equals(data));

  const empty = new DigestingPassThrough();
  await pipeline(Readable.from([]), empty, new Writable({ write: (_c, _e, cb) => cb() }));
  assert.equal(empty.digest(), EMPTY);
  assert.equal(empty.size, 0);
});
