/**
 * The rooted file-access layer (sys/rooted.ts, native/rooted.c) and the tar on top of it
 * (snapshot/rooted-tar.ts), against a root that plants what a hostile container would: absolute
 * and relative symlinks out of the root, symlink chains, `..` parents, links to a host secret,
 * and a directory swapped for a symlink to the host while a copy runs (CVE-2018-15664). Every
 * test checks that nothing outside the root was written (the host side, a secret file and a
 * sentinel directory, compared before and after) or read (the secret never appears in a packed
 * stream or a read). Real files, as root; everything is removed in `after`.
 */
import { tarOf, type TarIn } from '../tar-of.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { BerthError } from '../../src/lib/errors.js';
import { copyTree, extractInto, packFrom, packNames } from '../../src/snapshot/index.js';
import { encodePlan, encodeRecord, Rq, type Field } from '../../src/sys/helper-ops.js';
import { helperPath } from '../../src/sys/paths.js';
import { openRooted, RootedError, type RootedFs } from '../../src/sys/rooted.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];

/**
 * Each suite below runs twice: with openat2 (RESOLVE_IN_ROOT), and with the session chrooted into
 * the root, the fallback for kernels without openat2 (BERTH_ROOTED_RESOLVE=chroot forces it).
 */
const RESOLVE_MODES = ['openat2', 'chroot'] as const;
function setMode(mode: (typeof RESOLVE_MODES)[number] | undefined): void {
  if (mode === 'chroot') process.env.BERTH_ROOTED_RESOLVE = 'chroot';
  else delete process.env.BERTH_ROOTED_RESOLVE;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface World {
  /** The container's tree. */
  root: string;
  /** The host side: `secret` and `sentinel/` live here; the planted links point here. */
  host: string;
  secret: string;
  before: string;
}

/** Every entry below `dir` with its type, owner, mode, times and contents (not atime). */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p, { bigint: true });
    let what = '';
    if (st.isSymbolicLink()) what = `-> ${readlinkSync(p)}`;
    else if (st.isFile()) what = createHash('sha256').update(readFileSync(p)).digest('hex');
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} m${st.mtimeNs} c${st.ctimeNs} n${st.nlink} ${what}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return out.join('\n');
}

/**
 * A fresh world: the host side and a root planted with links out of it. Inside the root (under
 * dst/ and at its top): abs -> HOST, rel -> ../../../../../../../../HOST (climbing), chain1 ->
 * chain2 -> /chain3 -> HOST, up -> ../.., secretlink -> HOST/secret, relsecret (climbing to it),
 * sentinel -> HOST/sentinel, and an ordinary file etc/passwd.
 */
function world(): World {
  const base = mkdtempSync(join(tmpdir(), 'berth-rooted-'));
  dirs.push(base);
  const host = join(base, 'host');
  const root = join(base, 'root');
  mkdirSync(join(host, 'sentinel', 'sub'), { recursive: true });
  const secret = `SECRET-${randomBytes(12).toString('hex')}`;
  writeFileSync(join(host, 'secret'), secret, { mode: 0o600 });
  writeFileSync(join(host, 'sentinel', 'keep'), 'keep me\n');
  mkdirSync(join(root, 'dst'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  const climb = '../'.repeat(12) + host.slice(1);
  for (const d of [root, join(root, 'dst')]) {
    symlinkSync(host, join(d, 'abs'));
    symlinkSync(climb, join(d, 'rel'));
    symlinkSync('chain2', join(d, 'chain1'));
    symlinkSync('/chain3', join(d, 'chain2'));
    symlinkSync(`${climb}/secret`, join(d, 'relsecret'));
    symlinkSync(join(host, 'secret'), join(d, 'secretlink'));
    symlinkSync(join(host, 'sentinel'), join(d, 'sentinel'));
  }
  symlinkSync(host, join(root, 'chain3'));
  symlinkSync('../..', join(root, 'dst', 'up'));
  return { root, host, secret, before: snapshot(host) };
}

/** Nothing on the host side changed. */
function assertHostUntouched(w: World): void {
  assert.equal(snapshot(w.host), w.before, 'the host side outside the root changed');
  assert.equal(readFileSync(join(w.host, 'secret'), 'utf8'), w.secret);
}

async function rejectsWith(p: Promise<unknown>, code: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RootedError, `a RootedError, not ${String(e)}`);
    if (typeof code === 'string') assert.equal(e.code, code, e.message);
    else assert.match(e.code, code, e.message);
    return true;
  });
}

async function withFs<T>(w: World, fn: (fs: RootedFs) => Promise<T>): Promise<T> {
  const fs = await openRooted(w.root);
  try {
    return await fn(fs);
  } finally {
    await fs.close();
  }
}


interface Out {
  name: string;
  type: string;
  linkname?: string;
  body: string;
}

/** The entries of a tar, read with tar-stream (a reader independent of berth's). */
async function listTar(buf: Buffer): Promise<Out[]> {
  const ex = tarStream.extract();
  const out: Out[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (b: unknown) => parts.push(b as Buffer));
      stream.on('end', () => {
        out.push({ name: h.name, type: h.type ?? 'file', ...(h.linkname ? { linkname: h.linkname } : {}), body: Buffer.concat(parts).toString() });
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return out;
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

for (const mode of RESOLVE_MODES) {
describe(`rooted file access (${mode})`, { skip: isRoot ? false : 'needs root' }, () => {
  before(() => setMode(mode));
  after(() => setMode(undefined));
  it('resolves every path inside the root: planted links, chains and .. parents never reach the host', async () => {
    const w = world();
    await withFs(w, async (fs) => {
      // Reading through the planted links finds nothing (HOST does not exist inside the root).
      for (const p of ['abs/secret', 'rel/secret', 'chain1/secret', 'dst/up/abs/secret', `../../../../..${w.host}/secret`, `dst/../../..${w.host}/secret`, 'sentinel/keep'])
        await rejectsWith(fs.readFile(p, { follow: true }), 'ENOENT');
      for (const p of ['secretlink', 'relsecret']) {
        await rejectsWith(fs.readFile(p, { follow: true }), 'ENOENT');
        // Without follow, the link itself is refused: it is not a regular file.
        await rejectsWith(fs.readFile(p), 'ELOOP');
        assert.equal((await fs.lstat(p)).type, 'symlink');
      }
      await rejectsWith(fs.stat('abs'), 'ENOENT');
      await rejectsWith(fs.readdir('abs', { follow: true }), 'ENOENT');
      // `..` above the root is the root, and so is a link to it.
      const top = (await fs.readdir('dst/up', { follow: true })).map((e) => e.name).sort();
      assert.deepEqual(top, readdirSync(w.root).sort());
      assert.equal((await fs.readFile('dst/up/../../etc/passwd', { follow: true })).toString(), readFileSync(join(w.root, 'etc/passwd'), 'utf8'));
      assert.deepEqual((await fs.readdir('/', { follow: true })).map((e) => e.name).sort(), readdirSync(w.root).sort());

      // Creating through the links: nowhere to go while HOST is missing inside the root...
      await rejectsWith(fs.writeFile('abs/new', 'x'), 'ENOENT');
      await rejectsWith(fs.mkdir('chain1/new'), 'ENOENT');
      await rejectsWith(fs.symlink('/', 'rel/new'), 'ENOENT');
      // ...and once it exists there, that is where the links lead.
      await fs.mkdirAll(`${w.host}/sentinel`);
      await fs.writeFile('abs/new', 'via abs');
      await fs.writeFile('rel/new2', 'via rel');
      await fs.writeFile('chain1/new3', 'via chain');
      await fs.writeFile('sentinel/new4', 'via sentinel');
      assert.equal(readFileSync(join(w.root, w.host, 'new'), 'utf8'), 'via abs');
      assert.equal(readFileSync(join(w.root, w.host, 'new2'), 'utf8'), 'via rel');
      assert.equal(readFileSync(join(w.root, w.host, 'new3'), 'utf8'), 'via chain');
      assert.equal(readFileSync(join(w.root, w.host, 'sentinel', 'new4'), 'utf8'), 'via sentinel');

      // The last component of an entry that is created or changed is never followed.
      await rejectsWith(fs.create('secretlink'), 'EEXIST');
      await rejectsWith(fs.chmod('secretlink', 0o777), 'ELOOP');
      await rejectsWith(fs.setxattr('secretlink', 'user.x', Buffer.from('1')), /ENOTSUP|EOPNOTSUPP/);
      await fs.lchown('secretlink', 4321, 4321);
      assert.equal(lstatSync(join(w.root, 'secretlink')).uid, 4321, 'lchown changed the link itself');
      await fs.utimes('secretlink', 1_000_000_000n, 2_000_000_000n);
      assert.equal(lstatSync(join(w.root, 'secretlink'), { bigint: true }).mtimeNs, 2_000_000_000n);
      // A hard link to a planted link links the link, not what it names.
      await fs.link('secretlink', 'hl');
      assert.ok(lstatSync(join(w.root, 'hl')).isSymbolicLink());
      await rejectsWith(fs.link(`../../../..${w.host}/secret`, 'hl2'), 'ENOENT');
      await rejectsWith(fs.unlink('abs/secret'), 'ENOENT');
      await rejectsWith(fs.unlink('sentinel/keep'), 'ENOENT');
      await rejectsWith(fs.rmdir('sentinel/sub'), 'ENOENT');
      await fs.unlink('sentinel');
      assert.ok(!existsSync(join(w.root, 'sentinel')), 'the link itself was removed');
      // `..` of the root is the root: a change to it never reaches the directory above.
      await fs.lchown('..', 4321, 4321);
      await fs.utimes('../..', 3_000_000_000n, 3_000_000_000n);
      assert.equal(lstatSync(w.root).uid, 4321);
      assert.equal(lstatSync(w.root, { bigint: true }).mtimeNs, 3_000_000_000n);
      assert.equal(lstatSync(join(w.root, '..')).uid, 0);
      await fs.lchown('/', 0, 0);
    });
    assertHostUntouched(w);
  });

  it('serves the primitives: files, directories, links, device nodes, owners, modes, times, xattrs', async () => {
    const w = world();
    await withFs(w, async (fs) => {
      await fs.mkdirAll('a/b/c', 0o750);
      assert.equal(lstatSync(join(w.root, 'a/b/c')).mode & 0o7777, 0o750);
      const big = randomBytes(3 << 20);
      await fs.writeFile('a/b/c/big', big, 0o640);
      assert.deepEqual(readFileSync(join(w.root, 'a/b/c/big')), big);
      assert.deepEqual(await fs.readFile('/a/b/c/big'), big);
      const st = await fs.lstat('a/b/c/big');
      assert.equal(st.type, 'file');
      assert.equal(st.size, big.length);
      assert.equal(st.mode, 0o640);
      // A stream of a file's data.
      const h = await fs.openRead('a/b/c/big');
      assert.equal(h.stat.size, big.length);
      assert.deepEqual(await collect(fs.readStream(h)), big);
      await rejectsWith(fs.openRead('a/b'), 'EISDIR');
      await rejectsWith(fs.writeFile('a/b/c/big', 'again'), 'EEXIST');

      await fs.symlink('../x/y', 'a/link');
      assert.equal(await fs.readlink('a/link'), '../x/y');
      assert.equal(readlinkSync(join(w.root, 'a/link')), '../x/y');
      await fs.link('a/b/c/big', 'a/hard');
      assert.equal((await fs.lstat('a/hard')).nlink, 2);
      await fs.mknod('a/fifo', 'fifo', 0o644);
      await fs.mknod('a/null', 'char', 0o666, 1, 3);
      const dev = await fs.lstat('a/null');
      assert.deepEqual([dev.type, dev.rdevMajor, dev.rdevMinor], ['char', 1, 3]);
      assert.equal((await fs.lstat('a/fifo')).type, 'fifo');
      // A device node or fifo is never opened for reading.
      await rejectsWith(fs.openRead('a/null'), 'EINVAL');
      await rejectsWith(fs.openRead('a/fifo'), 'EINVAL');

      await fs.lchown('a/b/c/big', 1000, 1001);
      await fs.chmod('a/b/c/big', 0o4755);
      await fs.utimes('a/b/c/big', 1_500_000_000_123_456_789n, 1_600_000_000_987_654_321n);
      const after = lstatSync(join(w.root, 'a/b/c/big'), { bigint: true });
      assert.deepEqual([after.uid, after.gid, after.mode & 0o7777n, after.mtimeNs], [1000n, 1001n, 0o4755n, 1_600_000_000_987_654_321n]);

      await fs.setxattr('a/b/c/big', 'user.berth', Buffer.from([0, 1, 2, 255]));
      assert.deepEqual(await fs.listxattr('a/b/c/big'), ['user.berth']);
      assert.deepEqual(await fs.getxattr('a/b/c/big', 'user.berth'), Buffer.from([0, 1, 2, 255]));

      const names = (await fs.readdir('a')).map((e) => `${e.name}:${e.type}`).sort();
      assert.deepEqual(names, ['b:dir', 'fifo:fifo', 'hard:file', 'link:symlink', 'null:char']);
      await fs.removeAll('a');
      assert.ok(!existsSync(join(w.root, 'a')));
      await rejectsWith(fs.rmdir('etc'), 'ENOTEMPTY');
    });
    assertHostUntouched(w);
  });

  it(`resolves ${mode === 'chroot' ? 'chrooted into the root' : 'with openat2 from outside it'}`, async () => {
    const w = world();
    await withFs(w, async (fs) => {
      const root = readlinkSync(`/proc/${fs.pid}/root`);
      assert.equal(root, mode === 'chroot' ? w.root : '/');
    });
  });

  it('refuses a root that does not exist or is not a directory', async () => {
    const w = world();
    await assert.rejects(openRooted(join(w.root, 'missing')), (e: unknown) => e instanceof RootedError && e.code === 'ENOENT' && e.kind === 'NotFound');
    await assert.rejects(openRooted(join(w.root, 'etc', 'passwd')), (e: unknown) => e instanceof RootedError && e.code === 'ENOTDIR');
  });
});
}

for (const mode of RESOLVE_MODES) {
describe(`rooted tar (${mode})`, { skip: isRoot ? false : 'needs root' }, () => {
  before(() => setMode(mode));
  after(() => setMode(undefined));
  it('extractInto: absolute names and .. stay below the destination', async () => {
    const w = world();
    const tar = await tarOf([
      { name: '../../../../../../pwned-dotdot', body: 'a' },
      { name: '/pwned-abs', body: 'b' },
      { name: `${w.host}/pwned-hostpath`, body: 'c' },
      { name: 'x/../../y/../../z', body: 'd' },
    ]);
    await withFs(w, (fs) => extractInto(fs, '/dst', [tar]));
    assert.equal(readFileSync(join(w.root, 'dst/pwned-dotdot'), 'utf8'), 'a');
    assert.equal(readFileSync(join(w.root, 'dst/pwned-abs'), 'utf8'), 'b');
    assert.equal(readFileSync(join(w.root, 'dst', w.host, 'pwned-hostpath'), 'utf8'), 'c');
    assert.equal(readFileSync(join(w.root, 'dst/z'), 'utf8'), 'd');
    assertHostUntouched(w);
  });

  it('extractInto: entries under planted links land inside the root; a planted link in the way is replaced, not written through', async () => {
    const w = world();
    mkdirSync(join(w.root, w.host), { recursive: true });
    const tar = await tarOf([
      { name: 'abs/p1', body: '1' },
      { name: 'rel/p2', body: '2' },
      { name: 'chain1/p3', body: '3' },
      { name: 'up/p4', body: '4' },
      // Entries whose own name is a planted link: the link goes, the entry takes its place.
      { name: 'secretlink', body: 'replaced' },
      { name: 'relsecret', type: 'directory' },
      { name: 'relsecret/inside', body: '5' },
      { name: 'sentinel', type: 'symlink', linkname: '/etc' },
      // A link the archive itself plants, then an entry through it (the classic tar escape).
      { name: 'evil', type: 'symlink', linkname: w.host },
      { name: 'evil/p6', body: '6' },
      { name: 'evil2', type: 'symlink', linkname: '../'.repeat(12) + w.host.slice(1) },
      { name: 'evil2/p7', body: '7' },
      // A hard link to a planted link links the link.
      { name: 'hl', type: 'link', linkname: 'abs' },
      { name: 'f', type: 'fifo' },
    ]);
    const r = await withFs(w, (fs) => extractInto(fs, 'dst', [tar]));
    assert.equal(r.entries, 14);
    const inRoot = (...p: string[]) => readFileSync(join(w.root, ...p), 'utf8');
    assert.equal(inRoot(w.host, 'p1'), '1');
    assert.equal(inRoot(w.host, 'p2'), '2');
    assert.equal(inRoot(w.host, 'p3'), '3');
    assert.equal(inRoot('p4'), '4');
    assert.equal(inRoot(w.host, 'p6'), '6');
    assert.equal(inRoot(w.host, 'p7'), '7');
    assert.equal(inRoot('dst/secretlink'), 'replaced');
    assert.ok(lstatSync(join(w.root, 'dst/relsecret')).isDirectory());
    assert.equal(inRoot('dst/relsecret/inside'), '5');
    assert.equal(readlinkSync(join(w.root, 'dst/sentinel')), '/etc');
    assert.ok(lstatSync(join(w.root, 'dst/hl')).isSymbolicLink());
    assert.equal(readlinkSync(join(w.root, 'dst/hl')), w.host);
    assert.ok(lstatSync(join(w.root, 'dst/f')).isFIFO());
    assertHostUntouched(w);
  });

  it('extractInto: a destination through a link resolves inside the root; a hard link out of it fails', async () => {
    const w = world();
    // dst/up -> ../.. is the root: the entry goes to the root's etc/, not the host's.
    const tar = await tarOf([{ name: 'motd', body: 'hi' }]);
    await withFs(w, (fs) => extractInto(fs, 'dst/up/etc', [tar]));
    assert.equal(readFileSync(join(w.root, 'etc/motd'), 'utf8'), 'hi');
    // A destination through a planted link out of the root does not exist.
    await withFs(w, async (fs) => {
      await assert.rejects(extractInto(fs, 'abs', [tar]), (e: unknown) => e instanceof BerthError && e.kind === 'NotFound');
      await assert.rejects(extractInto(fs, 'sentinel/sub', [tar]), (e: unknown) => e instanceof BerthError && e.kind === 'NotFound');
      await assert.rejects(extractInto(fs, 'etc/passwd', [tar]), (e: unknown) => e instanceof BerthError && e.kind === 'InvalidArgument');
      const hard = await tarOf([{ name: 'hl', type: 'link', linkname: `../../../..${w.host}/secret` }]);
      await assert.rejects(extractInto(fs, 'dst', [hard]), (e: unknown) => e instanceof BerthError && e.kind === 'NotFound');
      // A broken archive is refused.
      await assert.rejects(extractInto(fs, 'dst', [tar.subarray(0, 700)]), (e: unknown) => e instanceof BerthError && e.kind === 'InvalidArgument');
    });
    assertHostUntouched(w);
  });

  it('extractInto and packFrom round-trip a tree: modes, owners, times, links and xattrs', async () => {
    const w = world();
    await withFs(w, async (fs) => {
      const tar = await tarOf([
        { name: 'tree/', type: 'directory', mode: 0o750 },
        { name: 'tree/a', body: 'alpha', mode: 0o4755 },
        { name: 'tree/sub/b', body: 'beta' },
        { name: 'tree/l', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'tree/h', type: 'link', linkname: 'tree/a' },
      ]);
      await extractInto(fs, 'dst', [tar]);
      await fs.lchown('dst/tree/sub/b', 123, 456);
      await fs.setxattr('dst/tree/sub/b', 'user.k', Buffer.from([9, 0, 8]));
      const packed = await collect(packFrom(fs, 'dst/tree', { xattrs: true }));
      const out = await listTar(packed);
      assert.deepEqual(
        out.map((e) => [e.name, e.type, e.linkname ?? '', e.body]),
        [
          ['tree/', 'directory', '', ''],
          ['tree/a', 'file', '', 'alpha'],
          ['tree/h', 'link', 'tree/a', ''],
          ['tree/l', 'symlink', '/etc/passwd', ''],
          ['tree/sub/', 'directory', '', ''],
          ['tree/sub/b', 'file', '', 'beta'],
        ],
      );
      // Into another place: the same tree, owners, modes and xattrs.
      await fs.mkdir('copy');
      await extractInto(fs, 'copy', [packed]);
      const b = lstatSync(join(w.root, 'copy/tree/sub/b'));
      assert.deepEqual([b.uid, b.gid], [123, 456]);
      assert.deepEqual(await fs.getxattr('copy/tree/sub/b', 'user.k'), Buffer.from([9, 0, 8]));
      assert.equal(lstatSync(join(w.root, 'copy/tree/a')).mode & 0o7777, 0o4755);
      assert.equal(lstatSync(join(w.root, 'copy/tree')).mode & 0o7777, 0o750);
      assert.equal(lstatSync(join(w.root, 'copy/tree/a')).mtimeMs, 1_600_000_000_000);
      assert.equal(lstatSync(join(w.root, 'copy/tree')).mtimeMs, 1_600_000_000_000, "a directory's time is set after its entries");
      assert.equal(lstatSync(join(w.root, 'copy/tree/h')).ino, lstatSync(join(w.root, 'copy/tree/a')).ino);
    });
    assertHostUntouched(w);
  });

  it('packFrom: links in the tree are archived as links, a link in the source path resolves inside the root, and the host secret never appears', async () => {
    const w = world();
    symlinkSync('/dst', join(w.root, 'todst'));
    writeFileSync(join(w.root, 'dst', 'plain'), 'plain data');
    await withFs(w, async (fs) => {
      const packed = await collect(packFrom(fs, 'dst'));
      assert.ok(!packed.includes(w.secret), 'the host secret is in the stream');
      const out = await listTar(packed);
      const links = Object.fromEntries(out.filter((e) => e.type === 'symlink').map((e) => [e.name, e.linkname]));
      assert.deepEqual(links, {
        'dst/abs': w.host,
        'dst/chain1': 'chain2',
        'dst/chain2': '/chain3',
        'dst/rel': '../'.repeat(12) + w.host.slice(1),
        'dst/relsecret': `${'../'.repeat(12) + w.host.slice(1)}/secret`,
        'dst/secretlink': join(w.host, 'secret'),
        'dst/sentinel': join(w.host, 'sentinel'),
        'dst/up': '../..',
      });
      // The whole root (export: no entry for the root itself).
      const all = await collect(packFrom(fs, '/', { name: '' }));
      assert.ok(!all.includes(w.secret));
      assert.ok(!all.includes('keep me'), "the host sentinel's file is in the stream");
      const names = (await listTar(all)).map((e) => e.name);
      assert.ok(names.includes('etc/passwd') && names.includes('dst/plain') && !names.some((n) => n.startsWith('/') || n.startsWith('.')), names.join(' '));

      // A source through a link: the link resolved inside the root.
      const via = await listTar(await collect(packFrom(fs, 'todst/plain')));
      assert.deepEqual(via.map((e) => [e.name, e.body]), [['plain', 'plain data']]);
      const up = await listTar(await collect(packFrom(fs, 'dst/up/etc/passwd', { name: 'pw' })));
      assert.deepEqual(up.map((e) => e.name), ['pw']);
      // The source itself a link: archived as the link, or followed inside the root.
      const self = await listTar(await collect(packFrom(fs, 'secretlink')));
      assert.deepEqual(self.map((e) => [e.name, e.type, e.linkname]), [['secretlink', 'symlink', join(w.host, 'secret')]]);
      for (const src of ['secretlink', 'relsecret', 'abs', 'sentinel', 'chain1'])
        await assert.rejects(collect(packFrom(fs, src, { followLink: true })), (e: unknown) => e instanceof BerthError && e.kind === 'NotFound', src);
      for (const src of ['abs/secret', 'rel/secret', 'chain1/secret', `dst/up/../../..${w.host}/secret`, 'sentinel/keep'])
        await assert.rejects(collect(packFrom(fs, src)), (e: unknown) => e instanceof BerthError && e.kind === 'NotFound', src);
    });
    assertHostUntouched(w);
  });

  it('copyTree: from one root into another, links copied as links; a link planted at the destination is replaced', async () => {
    const w = world();
    writeFileSync(join(w.root, 'dst', 'plain'), 'plain data');
    // The other root (a volume, another stage) plants its own link where the copy goes.
    const vol = join(w.root, '..', 'volume');
    mkdirSync(vol);
    symlinkSync(w.host, join(vol, 'dst'));
    symlinkSync(w.host, join(vol, 'seed'));
    const from = await openRooted(w.root);
    const to = await openRooted(vol);
    try {
      await copyTree(from, 'dst', to, '/');
      // `seed` is a link to HOST inside the volume, which does not exist there: nothing is copied.
      await assert.rejects(copyTree(from, 'dst', to, 'seed', { name: '' }), (e: unknown) => e instanceof BerthError && e.kind === 'NotFound');
      await copyTree(from, 'dst', to, '/', { name: 'owned', owner: { uid: 1234, gid: 4321 } });
    } finally {
      await from.close();
      await to.close();
    }
    assert.ok(lstatSync(join(vol, 'dst')).isDirectory(), 'the planted link was replaced by the directory');
    assert.equal(readFileSync(join(vol, 'dst', 'plain'), 'utf8'), 'plain data');
    assert.equal(readlinkSync(join(vol, 'dst', 'abs')), w.host);
    assert.equal(readlinkSync(join(vol, 'dst', 'up')), '../..');
    assert.equal(lstatSync(join(vol, 'owned', 'plain')).uid, 1234);
    assert.equal(lstatSync(join(vol, 'owned', 'abs')).gid, 4321);
    assert.ok(lstatSync(join(vol, 'seed')).isSymbolicLink());
    assertHostUntouched(w);
  });

  it('packNames: exactly the entries named, in order, none followed or recursed into', async () => {
    const w = world();
    writeFileSync(join(w.root, 'dst', 'plain'), 'plain data');
    await withFs(w, async (fs) => {
      const out = await listTar(await collect(packNames(fs, ['/dst/plain', 'dst/abs', 'dst', 'missing', 'etc', 'secretlink', 'abs/secret'])));
      assert.deepEqual(
        out.map((e) => [e.name, e.type, e.linkname ?? '']),
        [
          ['dst/plain', 'file', ''],
          ['dst/abs', 'symlink', w.host],
          ['dst/', 'directory', ''],
          ['etc/', 'directory', ''],
          ['secretlink', 'symlink', join(w.host, 'secret')],
        ],
      );
    });
    assertHostUntouched(w);
  });

  it('a directory swapped for a link to the host during extract and pack (CVE-2018-15664) never reaches the host', async (t) => {
    const w = world();
    const work = join(w.root, 'work');
    const d = join(work, 'd');
    mkdirSync(d, { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(join(d, `f${i}`), `inside ${i}\n`);
    writeFileSync(join(d, 'big'), randomBytes(1 << 20));
    // The host's path exists inside the root too, so that writes through the link can land there.
    mkdirSync(join(w.root, w.host, 'sentinel'), { recursive: true });
    // What the container does: flip work/d between its directory and a link to the host (the
    // absolute path, and the same through ../ climbing), in a loop, until it is stopped.
    const flipper = `
      const fs = require('node:fs');
      const [d, host] = process.argv.slice(1);
      const climb = '../'.repeat(12) + host.slice(1);
      let n = 0;
      process.on('SIGTERM', () => { process.stdout.write(String(n)); process.exit(0); });
      const step = () => {
        for (let i = 0; i < 50; i++) {
          try {
            fs.renameSync(d, d + '.real');
            fs.symlinkSync(n % 2 ? host : climb, d + '.lnk');
            fs.renameSync(d + '.lnk', d);
            fs.renameSync(d, d + '.lnk');
            fs.renameSync(d + '.real', d);
            fs.unlinkSync(d + '.lnk');
            n++;
          } catch {
            // berth made work/d meanwhile (or a step raced it): start over from a clean state
            try { fs.unlinkSync(d + '.lnk'); } catch {}
            try { fs.rmSync(d + '.lnk', { recursive: true, force: true }); } catch {}
            if (fs.existsSync(d + '.real')) {
              try { fs.rmSync(d, { recursive: true, force: true }); } catch {}
              try { fs.renameSync(d + '.real', d); } catch {}
            }
          }
        }
        setImmediate(step);
      };
      step();`;
    const child = spawn(process.execPath, ['-e', flipper, d, w.host], { stdio: ['ignore', 'pipe', 'inherit'] });
    let flips = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (flips += s));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const entries: TarIn[] = [];
    for (let i = 0; i < 300; i++) entries.push({ name: `d/n${i}`, body: `new ${i}\n` });
    entries.push({ name: 'd/sentinel/keep', body: 'overwritten' });
    entries.push({ name: 'd/secret', body: 'overwritten' });
    const tar = await tarOf(entries);
    const outcomes = { extracted: 0, extractFailed: 0, packed: 0, packFailed: 0 };
    try {
      await withFs(w, async (fs) => {
        for (let round = 0; round < 12; round++) {
          try {
            await extractInto(fs, 'work', [tar]);
            outcomes.extracted++;
          } catch (e) {
            assert.ok(e instanceof BerthError, `a BerthError, not ${String(e)}`);
            if (outcomes.extractFailed++ === 0) t.diagnostic(`first extract failure: ${e.message}`);
          }
          for (const src of ['work/d', 'work/d/secret', 'work/d/sentinel/keep', 'work']) {
            try {
              const packed = await collect(packFrom(fs, src, { followLink: true }));
              assert.ok(!packed.includes(w.secret), `the host secret is in the stream of ${src}`);
              assert.ok(!packed.includes('keep me'), `the host sentinel's file is in the stream of ${src}`);
              outcomes.packed++;
            } catch (e) {
              assert.ok(e instanceof BerthError, `a BerthError, not ${String(e)}`);
              outcomes.packFailed++;
            }
          }
          // Each round also reads through the flipping path directly.
          for (const p of ['work/d/secret', 'work/d/sentinel/keep']) {
            try {
              const b = await fs.readFile(p, { follow: true });
              assert.ok(!b.includes(w.secret), `the host secret was read through ${p}`);
            } catch (e) {
              assert.ok(e instanceof RootedError, `a RootedError, not ${String(e)}`);
            }
          }
          assertHostUntouched(w);
        }
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    t.diagnostic(`${flips} flips; ${JSON.stringify(outcomes)}`);
    assert.ok(Number(flips) > 0, `the flipper ran (${flips} flips)`);
    assert.equal(outcomes.extracted + outcomes.extractFailed, 12);
    assertHostUntouched(w);
  });
});
}

/**
 * A rooted session spoken to byte for byte, as the TypeScript client never would: the answers
 * (u32 errno, u32 len, payload) to the opening and to each request, and how the helper ended.
 */
async function rawSession(root: string, requests: Buffer[]): Promise<{ answers: { errno: number; payload: Buffer }[]; code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(helperPath(), ['3', '4'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], env: {} });
  const req = child.stdio[3] as import('node:net').Socket;
  const res = child.stdio[4] as import('node:net').Socket;
  const parts: Buffer[] = [];
  res.on('data', (b: Buffer) => parts.push(b));
  req.on('error', () => {});
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  req.write(encodePlan([{ op: 'FS_MODE', fields: [], what: 'fs' }, { op: 'ROOTED', fields: [root], what: 'rooted' }]));
  for (const r of requests) req.write(r);
  req.end();
  const { code, signal } = await ended;
  const all = Buffer.concat(parts);
  const answers: { errno: number; payload: Buffer }[] = [];
  for (let off = 0; off + 8 <= all.length; ) {
    const len = all.readUInt32LE(off + 4);
    answers.push({ errno: all.readUInt32LE(off), payload: all.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return { answers, code, signal };
}

describe('rooted requests at the wire', { skip: isRoot ? false : 'needs root' }, () => {
  const EINVAL = 22;
  it('an entry name must be one component: "..", "a/b" and "" are refused by the helper itself', async () => {
    const w = world();
    const { answers, code, signal } = await rawSession(w.root, [
      encodeRecord(Rq.LCHOWN, [4321, 4321, '.', '..']),
      encodeRecord(Rq.UTIMES, [0, 0, '.', '..']),
      encodeRecord(Rq.MKDIR, [0o755, '.', 'abs/escape']),
      encodeRecord(Rq.CREATE, [0o644, 'dst', `../../..${w.host}/pwned`]),
      encodeRecord(Rq.UNLINK, ['.', '']),
      encodeRecord(Rq.SYMLINK, ['/x', 'dst/up', '..']),
      // A record cut short, and an unknown request: answered, the session goes on.
      encodeRecord(Rq.STAT, [Buffer.from([1, 2, 3])]),
      encodeRecord(999, []),
      encodeRecord(Rq.STAT, [0, 'etc/passwd']),
    ]);
    assert.deepEqual([code, signal], [0, null]);
    assert.deepEqual(
      answers.map((a) => a.errno),
      [0, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, 38 /* ENOSYS */, 0],
    );
    assert.equal(lstatSync(join(w.root, '..')).uid, 0);
    assertHostUntouched(w);
  });

  it('random requests are each answered, never crash the helper and never reach the host', async () => {
    const w = world();
    const names = ['.', '..', '/', '', 'a', 'b', 'a/b', '../..', 'abs', 'rel', 'chain1', 'up', 'dst', 'dst/up', 'secretlink', 'sentinel', 'sentinel/keep', w.host, `${w.host}/secret`, `../../..${w.host}`, 'etc/passwd', 'x\nz', 'é'];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const codes = Object.values(Rq) as number[];
    const requests: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const code = rnd(10) === 0 ? rnd(40) : codes[rnd(codes.length)]!;
      const fields: Field[] = [];
      for (let f = rnd(5); f > 0; f--) {
        const k = rnd(4);
        if (k === 0) fields.push(rnd(70));
        else if (k === 1) fields.push([0o755, 0o100644, 0o20666, 0o60600, 0o10644, 0o4777, 1, 0][rnd(8)]!);
        else if (k === 2) fields.push(names[rnd(names.length)]!);
        else fields.push(randomBytes(rnd(24)));
      }
      requests.push(encodeRecord(code, fields));
    }
    const { answers, code, signal } = await rawSession(w.root, requests);
    assert.deepEqual([code, signal], [0, null], 'the helper ended at the end of its input');
    assert.equal(answers.length, 1 + requests.length, 'one answer per request');
    assert.equal(answers[0]!.errno, 0);
    assertHostUntouched(w);
  });
});
