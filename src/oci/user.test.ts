/** USER / --user / --chown → ids, by Docker's rules, over sample /etc/passwd and /etc/group text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { additionalGroups, processUser, resolveUser } from './user.js';

const passwd = ['root:x:0:0:root:/root:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false', 'bob:x:1001:100:Bob:/home/bob:/bin/sh', ''].join('\n');
const group = ['root:x:0:', 'wheel:x:10:root,bob', 'tty:x:5:', 'users:x:100:', 'audio:x:29:bob', 'nogroup:x:65534:', ''].join('\n');

const invalid = (f: () => unknown, message: string) => assert.throws(f, { name: 'BerthError', kind: 'InvalidArgument', message });

test('a user by name or by uid: its passwd entry gives the primary group, its memberships the others', () => {
  assert.deepEqual(resolveUser('bob', passwd, group), { uid: 1001, gid: 100, additionalGids: [10, 29] });
  assert.deepEqual(resolveUser('1001', passwd, group), { uid: 1001, gid: 100, additionalGids: [10, 29] });
  assert.deepEqual(resolveUser('nobody', passwd, group), { uid: 65534, gid: 65534 });
  // No user: root, as its entry says.
  assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [10] });
});

test('a uid without a passwd entry keeps gid 0, also when the image has no files', () => {
  assert.deepEqual(resolveUser('1000', passwd, group), { uid: 1000, gid: 0 });
  assert.deepEqual(resolveUser('1000'), { uid: 1000, gid: 0 });
  assert.deepEqual(resolveUser(''), { uid: 0, gid: 0 });
  assert.deepEqual(resolveUser('1000:7'), { uid: 1000, gid: 7 });
});

test('an explicit group, by name or gid, replaces the primary group and the memberships', () => {
  assert.deepEqual(resolveUser('root:tty', passwd, group), { uid: 0, gid: 5 });
  assert.deepEqual(resolveUser('bob:5', passwd, group), { uid: 1001, gid: 5 });
  assert.deepEqual(resolveUser('bob:4242', passwd, group), { uid: 1001, gid: 4242 });
  assert.deepEqual(resolveUser('1000:nogroup', passwd, group), { uid: 1000, gid: 65534 });
  // A trailing colon is no group.
  assert.deepEqual(resolveUser('bob:', passwd, group), { uid: 1001, gid: 100, additionalGids: [10, 29] });
});

test("names the files lack are errors in Docker's words", () => {
  invalid(() => resolveUser('ghost', passwd, group), 'unable to find user ghost: no matching entries in passwd file');
  invalid(() => resolveUser('ghost'), 'unable to find user ghost: no matching entries in passwd file');
  invalid(() => resolveUser('root:ghosts', passwd, group), 'unable to find group ghosts: no matching entries in group file');
});

test("COPY --chown's rule: an id alone is uid and gid; names as for USER, without memberships; the caller words the errors", () => {
  const chown = { chown: true };
  assert.deepEqual(resolveUser('1000', passwd, group, chown), { uid: 1000, gid: 1000 });
  assert.deepEqual(resolveUser('1001', passwd, group, chown), { uid: 1001, gid: 1001 });
  assert.deepEqual(resolveUser('bob', passwd, group, chown), { uid: 1001, gid: 100 });
  assert.deepEqual(resolveUser('nobody:tty', passwd, group, chown), { uid: 65534, gid: 5 });
  assert.deepEqual(resolveUser('7:8', undefined, undefined, chown), { uid: 7, gid: 8 });
  const missing = (what: string, name: string) => new Error(`no ${what} ${JSON.stringify(name)}`);
  assert.throws(() => resolveUser('ghost', passwd, group, { chown: true, missing }), /^Error: no user "ghost"$/);
  assert.throws(() => resolveUser('bob:ghosts', passwd, group, { chown: true, missing }), /^Error: no group "ghosts"$/);
});

test('a process user as dockerd sets it up: the primary gid first in the additional gids, HOME from the entry', () => {
  assert.deepEqual(processUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(processUser('bob', passwd, group), { uid: 1001, gid: 100, additionalGids: [100, 10, 29], home: '/home/bob' });
  assert.deepEqual(processUser('bob:tty', passwd, group), { uid: 1001, gid: 5, additionalGids: [5], home: '/home/bob' });
  // No entry: HOME is /, the gid 0.
  assert.deepEqual(processUser('1234', passwd, group), { uid: 1234, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(processUser('1234:55'), { uid: 1234, gid: 55, additionalGids: [55], home: '/' });
  assert.deepEqual(processUser('nobody', passwd, group, ['audio', '10', '4242']), { uid: 65534, gid: 65534, additionalGids: [65534, 29, 10, 4242], home: '/nonexistent' });
});

test('--group-add: names and gids of /etc/group, numbers as they are; an unknown name is refused with runc\'s words', () => {
  assert.deepEqual(additionalGroups(['wheel', '5', '777'], group), [10, 5, 777]);
  invalid(() => additionalGroups(['nosuch'], group), 'Unable to find group nosuch: no matching entries in group file');
});
