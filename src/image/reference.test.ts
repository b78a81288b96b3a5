/**
 * Reference parsing and normalisation, checked against the cases Docker's own reference package
 * tests (normalisation, the grammar's corner cases, IPv6 hosts, lengths) and Docker's messages.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../lib/errors.js';
import { familiarName, isFullId, isValidTag, looksLikeIdPrefix, parseReference, Reference } from './reference.js';

const D = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const F = 'sha256:' + 'f'.repeat(64);
const HEX = D.slice(7);

interface Ok {
  in: string;
  /** The full normalised form. */
  full: string;
  /** As docker prints it. */
  familiar: string;
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const valid: Ok[] = [
  // Familiar names on the default domain.
  { in: 'busybox', full: 'docker.io/library/busybox:latest', familiar: 'busybox:latest', domain: 'docker.io', path: 'library/busybox', tag: 'latest' },
  { in: 'busybox:1.36', full: 'docker.io/library/busybox:1.36', familiar: 'busybox:1.36', domain: 'docker.io', path: 'library/busybox', tag: '1.36' },
  { in: 'user/repo', full: 'docker.io/user/repo:latest', familiar: 'user/repo:latest', domain: 'docker.io', path: 'user/repo', tag: 'latest' },
  { in: 'docker.io/busybox', full: 'docker.io/library/busybox:latest', familiar: 'busybox:latest', domain: 'docker.io', path: 'library/busybox', tag: 'latest' },
  { in: 'docker.io/library/busybox:latest', full: 'docker.io/library/busybox:latest', familiar: 'busybox:latest', domain: 'docker.io', path: 'library/busybox', tag: 'latest' },
  { in: 'index.docker.io/library/debian', full: 'docker.io/library/debian:latest', familiar: 'debian:latest', domain: 'docker.io', path: 'library/debian', tag: 'latest' },
  { in: 'index.docker.io/debian', full: 'docker.io/library/debian:latest', familiar: 'debian:latest', domain: 'docker.io', path: 'library/debian', tag: 'latest' },
  { in: 'library/foo/bar', full: 'docker.io/library/foo/bar:latest', familiar: 'library/foo/bar:latest', domain: 'docker.io', path: 'library/foo/bar', tag: 'latest' },
  { in: 'other/library', full: 'docker.io/other/library:latest', familiar: 'other/library:latest', domain: 'docker.io', path: 'other/library', tag: 'latest' },
  { in: 'store/foo/bar', full: 'docker.io/store/foo/bar:latest', familiar: 'store/foo/bar:latest', domain: 'docker.io', path: 'store/foo/bar', tag: 'latest' },
  { in: 'ubuntu-12.04-base', full: 'docker.io/library/ubuntu-12.04-base:latest', familiar: 'ubuntu-12.04-base:latest', domain: 'docker.io', path: 'library/ubuntu-12.04-base', tag: 'latest' },
  // A first element without ".", ":" or uppercase, and not localhost, is a path element.
  { in: 'test_com/foo', full: 'docker.io/test_com/foo:latest', familiar: 'test_com/foo:latest', domain: 'docker.io', path: 'test_com/foo', tag: 'latest' },
  { in: 'docker/migrator', full: 'docker.io/docker/migrator:latest', familiar: 'docker/migrator:latest', domain: 'docker.io', path: 'docker/migrator', tag: 'latest' },
  // Separators: dashes (several), one period, one or two underscores; one-letter names.
  { in: 'docker---rules/docker', full: 'docker.io/docker---rules/docker:latest', familiar: 'docker---rules/docker:latest', domain: 'docker.io', path: 'docker---rules/docker', tag: 'latest' },
  { in: 'dock__er/docker', full: 'docker.io/dock__er/docker:latest', familiar: 'dock__er/docker:latest', domain: 'docker.io', path: 'dock__er/docker', tag: 'latest' },
  { in: 'd/docker', full: 'docker.io/d/docker:latest', familiar: 'd/docker:latest', domain: 'docker.io', path: 'd/docker', tag: 'latest' },
  { in: 'jess/t', full: 'docker.io/jess/t:latest', familiar: 'jess/t:latest', domain: 'docker.io', path: 'jess/t', tag: 'latest' },
  // 64 characters that are not all hex are a name.
  { in: 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', full: 'docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest', familiar: 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest', domain: 'docker.io', path: 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', tag: 'latest' },
  { in: 'dbcc1', full: 'docker.io/library/dbcc1:latest', familiar: 'dbcc1:latest', domain: 'docker.io', path: 'library/dbcc1', tag: 'latest' },
  { in: `docker.io/${HEX.slice(0, 63)}a`, full: `docker.io/library/${HEX.slice(0, 63)}a:latest`, familiar: `${HEX.slice(0, 63)}a:latest`, domain: 'docker.io', path: `library/${HEX.slice(0, 63)}a`, tag: 'latest' },
  // Tags: case kept, digits, dots, dashes.
  { in: 'lowercase:Uppercase', full: 'docker.io/library/lowercase:Uppercase', familiar: 'lowercase:Uppercase', domain: 'docker.io', path: 'library/lowercase', tag: 'Uppercase' },
  { in: 'foo_bar.com:8080', full: 'docker.io/library/foo_bar.com:8080', familiar: 'foo_bar.com:8080', domain: 'docker.io', path: 'library/foo_bar.com', tag: '8080' },
  { in: 'test.com:5000', full: 'docker.io/library/test.com:5000', familiar: 'test.com:5000', domain: 'docker.io', path: 'library/test.com', tag: '5000' },
  { in: `repo:${'a'.repeat(128)}`, full: `docker.io/library/repo:${'a'.repeat(128)}`, familiar: `repo:${'a'.repeat(128)}`, domain: 'docker.io', path: 'library/repo', tag: 'a'.repeat(128) },
  { in: 'repo:_under', full: 'docker.io/library/repo:_under', familiar: 'repo:_under', domain: 'docker.io', path: 'library/repo', tag: '_under' },
  // Digests: no tag added; tag and digest both kept.
  { in: `redis@${D}`, full: `docker.io/library/redis@${D}`, familiar: `redis@${D}`, domain: 'docker.io', path: 'library/redis', digest: D },
  { in: `dmcgowan/myapp@${D}`, full: `docker.io/dmcgowan/myapp@${D}`, familiar: `dmcgowan/myapp@${D}`, domain: 'docker.io', path: 'dmcgowan/myapp', digest: D },
  { in: `busybox:latest@${D}`, full: `docker.io/library/busybox:latest@${D}`, familiar: `busybox:latest@${D}`, domain: 'docker.io', path: 'library/busybox', tag: 'latest', digest: D },
  { in: `sha512repo@sha512:${'f'.repeat(128)}`, full: `docker.io/library/sha512repo@sha512:${'f'.repeat(128)}`, familiar: `sha512repo@sha512:${'f'.repeat(128)}`, domain: 'docker.io', path: 'library/sha512repo', digest: `sha512:${'f'.repeat(128)}` },
  // Docker parses "sha256:<hex>" as repository "sha256" with a tag (ParseNormalizedNamed does).
  { in: D, full: `docker.io/library/sha256:${HEX}`, familiar: `sha256:${HEX}`, domain: 'docker.io', path: 'library/sha256', tag: HEX },
  // Other domains are kept, and no "library/" is added there.
  { in: 'localhost:5000/x', full: 'localhost:5000/x:latest', familiar: 'localhost:5000/x:latest', domain: 'localhost:5000', path: 'x', tag: 'latest' },
  { in: 'localhost/x:dev', full: 'localhost/x:dev', familiar: 'localhost/x:dev', domain: 'localhost', path: 'x', tag: 'dev' },
  { in: 'example.test/a/b:tag', full: 'example.test/a/b:tag', familiar: 'example.test/a/b:tag', domain: 'example.test', path: 'a/b', tag: 'tag' },
  { in: 'example.com:8000/privatebase', full: 'example.com:8000/privatebase:latest', familiar: 'example.com:8000/privatebase:latest', domain: 'example.com:8000', path: 'privatebase', tag: 'latest' },
  { in: 'test-com:8080/foo', full: 'test-com:8080/foo:latest', familiar: 'test-com:8080/foo:latest', domain: 'test-com:8080', path: 'foo', tag: 'latest' },
  { in: 'xn--n3h.com:18080/foo', full: 'xn--n3h.com:18080/foo:latest', familiar: 'xn--n3h.com:18080/foo:latest', domain: 'xn--n3h.com:18080', path: 'foo', tag: 'latest' },
  { in: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', full: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', familiar: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', domain: 'sub-dom1.foo.com', path: 'bar/baz/quux', tag: 'some-long-tag' },
  { in: 'b.gcr.io/test.example.com/my-app:test.example.com', full: 'b.gcr.io/test.example.com/my-app:test.example.com', familiar: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', path: 'test.example.com/my-app', tag: 'test.example.com' },
  { in: '127.0.0.1:5000/library/debian', full: '127.0.0.1:5000/library/debian:latest', familiar: '127.0.0.1:5000/library/debian:latest', domain: '127.0.0.1:5000', path: 'library/debian', tag: 'latest' },
  { in: '192.168.1.1:5000/repo:5050', full: '192.168.1.1:5000/repo:5050', familiar: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', path: 'repo', tag: '5050' },
  { in: `test:5000/repo:tag@${F}`, full: `test:5000/repo:tag@${F}`, familiar: `test:5000/repo:tag@${F}`, domain: 'test:5000', path: 'repo', tag: 'tag', digest: F },
  // IPv6 hosts in brackets.
  { in: '[fc00::1]:5000/docker', full: '[fc00::1]:5000/docker:latest', familiar: '[fc00::1]:5000/docker:latest', domain: '[fc00::1]:5000', path: 'docker', tag: 'latest' },
  { in: '[2001:db8::1]/repo', full: '[2001:db8::1]/repo:latest', familiar: '[2001:db8::1]/repo:latest', domain: '[2001:db8::1]', path: 'repo', tag: 'latest' },
  { in: `[2001:db8::1]:5000/repo:tag@${F}`, full: `[2001:db8::1]:5000/repo:tag@${F}`, familiar: `[2001:db8::1]:5000/repo:tag@${F}`, domain: '[2001:db8::1]:5000', path: 'repo', tag: 'tag', digest: F },
  // An uppercase first element is taken for a domain (Docker's rule), so this is valid.
  { in: 'Docker/docker', full: 'Docker/docker:latest', familiar: 'Docker/docker:latest', domain: 'Docker', path: 'docker', tag: 'latest' },
  // 255 characters of path is the most.
  { in: 'a/'.repeat(127) + 'a:tag-puts-this-over-max', full: 'docker.io/' + 'a/'.repeat(127) + 'a:tag-puts-this-over-max', familiar: 'a/'.repeat(127) + 'a:tag-puts-this-over-max', domain: 'docker.io', path: 'a/'.repeat(127) + 'a', tag: 'tag-puts-this-over-max' },
];

/** Input → the reason after the quoted input (undefined: Docker gives none but the format). */
const invalid: [string, string | undefined][] = [
  ['', undefined],
  [':', undefined],
  [':justtag', undefined],
  [`@${F}`, undefined],
  ['Busybox', 'repository name must be lowercase'],
  ['Uppercase:tag', 'repository name must be lowercase'],
  ['docker/Docker', 'repository name must be lowercase'],
  ['docker.io/docker/Docker', 'repository name must be lowercase'],
  ['test:5000/Uppercase/lowercase:tag', 'repository name must be lowercase'],
  ['https://github.com/docker/docker', undefined],
  ['-docker', undefined],
  ['-docker/docker', undefined],
  ['docker-/docker', undefined],
  ['-docker.io/docker/docker', undefined],
  ['docker///docker', undefined],
  ['docker.io/docker///docker', undefined],
  ['____/____', undefined],
  ['_docker/_docker', undefined],
  ['dock..er/docker', undefined],
  ['dock_.er/docker', undefined],
  ['dock-.er/docker', undefined],
  ['dock___er/docker', undefined],
  ['docker/', undefined],
  ['aa/asdf$$^/aa', undefined],
  ['busybox:', undefined],
  ['busybox:.tag', undefined],
  ['busybox:-tag', undefined],
  [`busybox:${'a'.repeat(129)}`, undefined],
  ['busybox:tag with space', undefined],
  ['busybox@sha256:abc', undefined],
  ['repo@sha256:' + 'f'.repeat(34), 'invalid checksum digest length'],
  ['repo@sha256:' + 'F'.repeat(64), 'invalid checksum digest format'],
  ['validname@invaliddigest:' + 'f'.repeat(64), 'unsupported digest algorithm'],
  [HEX, 'cannot specify 64-byte hexadecimal strings'],
  ['[fc00::1]', undefined],
  ['[fc00::1]:5000', undefined],
  ['fc00::1:5000/debian', undefined],
  ['[fe80::1%eth0]:5000/debian', undefined],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', undefined],
  ['a/'.repeat(128) + 'a:tag', 'repository name must not be more than 255 characters'],
  [Array(4).fill('this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255').join('_') + '/docker', 'repository name must not be more than 255 characters'],
];

test(`parses and normalises ${valid.length} valid references as Docker does`, () => {
  for (const c of valid) {
    const r = parseReference(c.in);
    assert.ok(r instanceof Reference);
    const got = { full: r.toString(), familiar: r.familiar, domain: r.domain, path: r.path, tag: r.tag, digest: r.digest, name: r.name };
    const want = { full: c.full, familiar: c.familiar, domain: c.domain, path: c.path, tag: c.tag, digest: c.digest, name: `${c.domain}/${c.path}` };
    assert.deepEqual(got, want, `parseReference(${JSON.stringify(c.in)})`);
    assert.equal(String(r), c.full);
    // The normalised form and the familiar form parse back to the same reference.
    assert.equal(parseReference(r.toString()).toString(), c.full, `reparse of ${r.toString()}`);
    assert.equal(parseReference(r.familiar).toString(), c.full, `reparse of ${r.familiar}`);
  }
});

test(`rejects ${invalid.length} invalid references with Docker's reason and the input quoted`, () => {
  for (const [input, why] of invalid) {
    const want = `invalid reference format: ${JSON.stringify(input)}${why === undefined ? '' : `: ${why}`}`;
    assert.throws(
      () => parseReference(input),
      (e: unknown) => {
        assert.ok(isBerthError(e, 'InvalidArgument'), `${JSON.stringify(input)}: expected InvalidArgument, got ${String(e)}`);
        assert.equal(e.message, want);
        return true;
      },
      JSON.stringify(input),
    );
  }
});

test('familiarName strips the default domain and library/, adding and dropping nothing else', () => {
  const r = parseReference('busybox:1');
  assert.equal(familiarName(r), 'busybox:1');
  assert.equal(familiarName(r), r.familiar);
  assert.equal(familiarName(r.name), 'busybox', 'the REPOSITORY column of docker images');
  assert.equal(familiarName(parseReference('busybox')), 'busybox:latest');
  assert.equal(familiarName('docker.io/library/busybox'), 'busybox');
  assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarName('busybox'), 'busybox');
  assert.equal(familiarName('docker.io/user/repo:tag'), 'user/repo:tag');
  assert.equal(familiarName('docker.io/library/foo/bar'), 'library/foo/bar');
  assert.equal(familiarName('localhost:5000/library/x'), 'localhost:5000/library/x');
  assert.equal(familiarName(`docker.io/library/redis@${D}`), `redis@${D}`);
  assert.equal(familiarName(`docker.io/library/redis:7@${D}`), `redis:7@${D}`);
  assert.equal(familiarName('example.com/privatebase'), 'example.com/privatebase');
  assert.throws(() => familiarName('Busybox'), (e: unknown) => isBerthError(e, 'InvalidArgument'));
});

test('messages quote at most 512 characters of the input', () => {
  const long = 'a'.repeat(2000) + '!';
  assert.throws(() => parseReference(long), (e: unknown) => isBerthError(e) && e.message === `invalid reference format: "${'a'.repeat(512)}…"`);
});

test('image ids: full ids and prefixes', () => {
  assert.ok(isFullId(HEX));
  assert.ok(isFullId(D));
  assert.ok(!isFullId(HEX.slice(1)));
  assert.ok(!isFullId(HEX.toUpperCase()));
  assert.ok(!isFullId(`sha512:${HEX}`));
  for (const s of ['abcd', 'dbcc1c35ac38', HEX, `sha256:${HEX.slice(0, 12)}`]) assert.ok(looksLikeIdPrefix(s), s);
  for (const s of ['abc', 'busybox', 'ABCD', HEX + '0', '', 'sha256:']) assert.ok(!looksLikeIdPrefix(s), s);
});

test('tags', () => {
  for (const t of ['latest', 'v1.2.3', 'A_b-c.d', '_x', 'a'.repeat(128)]) assert.ok(isValidTag(t), t);
  for (const t of ['', '.x', '-x', 'a'.repeat(129), 'a:b', 'a/b']) assert.ok(!isValidTag(t), t);
});

test('pathological input is rejected, not stuck backtracking', () => {
  const inputs = [
    'a'.repeat(20000) + '!',
    'a.'.repeat(10000) + '!',
    'a-'.repeat(10000) + '/!',
    'a/'.repeat(10000) + ':',
    'a-a.'.repeat(5000) + ':5000/' + 'b__'.repeat(3000) + '@',
    '[' + ':'.repeat(20000),
  ];
  // Parsed in a child process under a deadline: exponential backtracking on inputs of this length
  // would never end, so the deadline is a bound on a hang, not a speed limit.
  const mod = pathToFileURL(join(import.meta.dirname, 'reference.js')).href;
  const errors = pathToFileURL(join(import.meta.dirname, '..', 'lib', 'errors.js')).href;
  const script = `import { parseReference } from ${JSON.stringify(mod)}; import { isBerthError } from ${JSON.stringify(errors)}; import { readFileSync } from 'node:fs';
    const out = [];
    for (const s of JSON.parse(readFileSync(0, 'utf8'))) {
      try { parseReference(s); out.push('accepted'); } catch (e) { out.push(isBerthError(e, 'InvalidArgument') ? 'InvalidArgument' : String(e)); }
    }
    console.log(JSON.stringify(out));`;
  const deadline = 60_000;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(inputs), encoding: 'utf8', timeout: deadline, killSignal: 'SIGKILL' });
  assert.equal(r.signal, null, `parsing the pathological references did not end within ${deadline / 1000} s (catastrophic backtracking?)`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), inputs.map(() => 'InvalidArgument'));
});
