/**
 * Layer storage on the real kernel, as root, for both drivers: layers applied from tars built in
 * memory, merged views read through real mounts (overlay or bind, by berth-helper), metadata read
 * back with lstat and GNU tar (xattrs), writable snapshots changed through their mount, their
 * changes, diff tars, commits and removal. Every root, mount and directory made here is removed
 * in `after`, also on failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, symlinkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, chownSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { Snapshotter, chainId, type Driver, type Mount } from '../../src/snapshot/index.js';
import { runFsOps } from '../../src/sys/fsops.js';
import { TarParser } from '../../src/snapshot/tar.js';

const isRoot = process.getuid?.() === 0;
const MS_BIND = 4096;
const MS_REC = 16384;
const MNT_DETACH = 2;

// ---- helpers ----

interface In {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

const T0 = new Date(1_600_000_000_000);

async function tarOf(entries: In[]): Promise<Buffer> {
  const p = tarStream.pack();
  for (const e of entries) {
    const { body, ...h } = e;
    const type = h.type ?? 'file';
    const header = { mtime: T0, mode: type === 'directory' ? 0o755 : 0o644, ...h, type } as tarStream.Header;
    if (type === 'file') p.entry(header, body ?? '');
    else p.entry(header);
  }
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p) out.push(c as Buffer);
  return Buffer.concat(out);
}

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Applies tars bottom first; returns the chain IDs. */
async function applyChain(s: Snapshotter, tars: Buffer[], base?: string): Promise<string[]> {
  const ids: string[] = [];
  let parent = base;
  for (const t of tars) {
    const id = parent === undefined ? digest(t) : chainId([parent, digest(t)]);
    await s.applyLayer(id, parent, Readable.from([t]));
    ids.push(id);
    parent = id;
  }
  return ids;
}

const mounted: string[] = [];
async function mountAt(mounts: Mount[], target: string): Promise<void> {
  mkdirSync(target, { recursive: true });
  const m = mounts[0]!;
  if (m.type === 'bind') await runFsOps([{ op: 'mount', source: m.source, target, fstype: '', flags: MS_BIND | MS_REC }]);
  else await runFsOps([{ op: 'mount', source: m.source, target, fstype: m.type, data: m.options.join(',') }]);
  mounted.push(target);
}
async function unmount(target: string): Promise<void> {
  await runFsOps([{ op: 'umount', target }]);
  mounted.splice(mounted.indexOf(target), 1);
}
function isMounted(target: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === target);
}

/** Every path below dir, sorted, with a description of what it is. */
function tree(dir: string, opts: { mtime?: boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(rel ? join(dir, rel) : dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      const st = lstatSync(p, { bigint: true });
      const mode = (Number(st.mode) & 0o7777).toString(8);
      let what: string;
      if (st.isDirectory()) what = `dir ${mode}`;
      else if (st.isSymbolicLink()) what = `symlink -> ${readlinkSync(p)}`;
      else if (st.isFile()) what = `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 12)}`;
      else if (st.isCharacterDevice()) what = `char ${mode} ${st.rdev}`;
      else if (st.isBlockDevice()) what = `block ${mode} ${st.rdev}`;
      else if (st.isFIFO()) what = `fifo ${mode}`;
      else what = 'other';
      what += ` ${st.uid}:${st.gid}`;
      if (!st.isDirectory()) what += ` n=${st.nlink}`;
      if (opts.mtime && !st.isDirectory()) what += ` t=${st.mtimeNs / 1_000_000_000n}`;
      out.set(r, what);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** A fingerprint of a directory's whole state: names, types, metadata, contents, exact mtimes. */
function fingerprint(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const p = rel ? join(dir, rel) : dir;
    const st = lstatSync(p, { bigint: true });
    h.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${st.mtimeNs}\0${st.rdev}\0${st.ino}\0`);
    if (st.isSymbolicLink()) h.update(readlinkSync(p));
    else if (st.isFile()) h.update(readFileSync(p));
    else if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return h.digest('hex');
}

/** GNU tar's archive (PAX, every xattr, no recursion) of these paths under dir: a reference reader. */
function gnuTar(dir: string, rels: string[]): Buffer {
  const r = spawnSync('tar', ['-C', dir, '-c', '-f', '-', '--format=pax', '--xattrs', '--xattrs-include=*', '--numeric-owner', '--no-recursion', '--null', '-T', '-'], { input: rels.join('\0') + '\0', maxBuffer: 1 << 28 });
  assert.ok(r.status === 0 || r.status === 1, r.stderr.toString());
  return r.stdout;
}

/** The xattrs of paths under dir, read by GNU tar. */
async function xattrsOf(dir: string, rels: string[]): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  const p = new TarParser();
  p.write(gnuTar(dir, rels));
  for (let ev = p.next(); ev; ev = p.next()) if (ev.kind === 'entry') out.set(ev.entry.name.replace(/\/$/, ''), ev.entry.xattrs ?? new Map());
  return out;
}

const roots: string[] = [];
function newRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-snap-'));
  roots.push(d);
  return d;
}

after(async () => {
  for (const t of [...mounted].reverse()) {
    try {
      await runFsOps([{ op: 'umount', target: t, flags: MNT_DETACH }]);
    } catch {
      // already gone
    }
  }
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const drivers: Driver[] = ['overlay', 'vfs'];
/** A file capability (cap_net_bind_service, cap_setuid: bytes over 0x7f), v2 format. */
const CAP = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x80, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

// The three layers of the whiteout test.
const L1: In[] = [
  { name: 'a', type: 'directory' },
  { name: 'a/1', body: 'one' },
  { name: 'a/2', body: 'two' },
  { name: 'a/sub/x', body: 'x' },
  { name: 'b', type: 'directory' },
  { name: 'b/keep', body: 'keep' },
  { name: 'b/gone', body: 'gone' },
  { name: 'c', type: 'directory', mode: 0o750 },
  { name: 'c/deep/f', body: 'f' },
  { name: 'top-file', body: 'top' },
  { name: 'lib', type: 'directory' },
  { name: 'lib/libc.so', body: 'libc' },
];
const L2: In[] = [
  { name: '.wh.top-file' },
  { name: 'a/3', body: 'three' },
  { name: 'b/.wh.gone' },
  { name: 'c', type: 'directory', mode: 0o750 },
  { name: 'c/.wh..wh..opq' },
  { name: 'c/new', body: 'new' },
  { name: 'd/x', body: 'dx' },
];
const L3: In[] = [
  { name: '.wh.a' },
  { name: '.wh.d' },
  { name: 'a', type: 'directory', mode: 0o700 },
  { name: 'a/fresh', body: 'fresh' },
  { name: 'c/deep/again', body: 'again' },
  { name: 'top-file', body: 'back' },
];
const MERGED = [
  ['a', 'dir 700 0:0'],
  ['a/fresh', 'file'],
  ['b', 'dir 755 0:0'],
  ['b/keep', 'file'],
  ['c', 'dir 750 0:0'],
  ['c/deep', 'dir 755 0:0'],
  ['c/deep/again', 'file'],
  ['c/new', 'file'],
  ['lib', 'dir 755 0:0'],
  ['lib/libc.so', 'file'],
  ['top-file', 'file'],
];

describe('snapshotter', { skip: isRoot ? false : 'needs root' }, () => {
  it('picks overlay by default where the kernel mounts it, and keeps a root on its driver', () => {
    const root = newRoot();
    const s = new Snapshotter(root);
    assert.equal(s.driver, 'overlay');
    const v = new Snapshotter(newRoot(), 'vfs');
    assert.equal(new Snapshotter(v.root).driver, 'vfs');
    assert.deepEqual(readdirSync(root).sort(), ['overlay']); // the probe left nothing behind
    // What a killed process left in tmp/ goes when the next snapshotter opens the root.
    const stale = join(root, 'overlay', 'tmp', '2147483646-apply-stale');
    mkdirSync(join(stale, 'layer', 'half'), { recursive: true });
    new Snapshotter(root);
    assert.equal(existsSync(stale), false);
  });

  for (const driver of drivers) {
    describe(driver, () => {
      let s: Snapshotter;
      let ids: string[];
      before(async () => {
        s = new Snapshotter(newRoot(), driver);
        ids = await applyChain(s, [await tarOf(L1), await tarOf(L2), await tarOf(L3)]);
      });

      it('whiteouts and opaque directories across three layers give the expected merged view', async () => {
        const key = `view-${driver}`;
        const mounts = s.prepare(key, ids[2]);
        const target = join(s.root, 'mnt-merged');
        await mountAt(mounts, target);
        try {
          const t = tree(target);
          assert.deepEqual(
            [...t.entries()].map(([p, w]) => [p, w.startsWith('file') ? 'file' : w]),
            MERGED,
          );
          assert.equal(readFileSync(join(target, 'top-file'), 'utf8'), 'back');
          assert.equal(readFileSync(join(target, 'a/fresh'), 'utf8'), 'fresh');
          assert.equal(readFileSync(join(target, 'c/new'), 'utf8'), 'new');
        } finally {
          await unmount(target);
          s.remove(key);
        }
        // The middle of the chain, too: L1+L2.
        const mid = s.prepare(`mid-${driver}`, ids[1]);
        await mountAt(mid, target);
        try {
          assert.deepEqual([...tree(target).keys()], ['a', 'a/1', 'a/2', 'a/3', 'a/sub', 'a/sub/x', 'b', 'b/keep', 'c', 'c/new', 'd', 'd/x', 'lib', 'lib/libc.so']);
        } finally {
          await unmount(target);
          s.remove(`mid-${driver}`);
        }
      });

      it('an opaque marker at the layer root hides every lower entry; entries of its own layer stay', async () => {
        const [top] = await applyChain(s, [await tarOf([{ name: 'b', type: 'directory', mode: 0o711 }, { name: '.wh..wh..opq' }, { name: 'only', body: 'only' }])], ids[2]);
        const target = join(s.root, 'mnt-rootopq');
        await mountAt(s.prepare(`rootopq-${driver}`, top), target);
        try {
          assert.deepEqual([...tree(target)].map(([p, w]) => `${p} ${w.split(' ').slice(0, 2).join(' ')}`), ['b dir 711', 'only file 644']);
        } finally {
          await unmount(target);
          s.remove(`rootopq-${driver}`);
          s.removeLayer(top!);
        }
      });

      it('stores each layer once: two chains on one base share its directory', async () => {
        const other = await applyChain(s, [await tarOf([{ name: 'other', body: 'o' }])], ids[0]);
        assert.equal(s.listLayers().length, 4);
        assert.equal(readdirSync(join(s.root, driver, 'l')).length, 4);
        if (driver !== 'overlay') return;
        const m1 = s.prepare('chain-1', ids[2]);
        const m2 = s.prepare('chain-2', other[0]);
        const base = s.layerPath(ids[0]!);
        assert.ok(m1[0]!.options.some((o) => o.startsWith('lowerdir=') && o.endsWith(`:${base}`)));
        assert.ok(m2[0]!.options.some((o) => o.startsWith('lowerdir=') && o.endsWith(`:${base}`)));
        const t1 = join(s.root, 'mnt-1');
        const t2 = join(s.root, 'mnt-2');
        await mountAt(m1, t1);
        await mountAt(m2, t2);
        try {
          const i1 = statSync(join(t1, 'lib/libc.so')).ino;
          const i2 = statSync(join(t2, 'lib/libc.so')).ino;
          assert.equal(i1, i2);
          assert.equal(i1, statSync(join(base, 'lib/libc.so')).ino);
        } finally {
          await unmount(t1);
          await unmount(t2);
          s.remove('chain-1');
          s.remove('chain-2');
        }
      });

      it('keeps hardlinks, symlinks, devices, fifos, owners, modes, mtimes and xattrs', async () => {
        const t = (sec: number) => new Date(sec * 1000);
        const tar = await tarOf([
          { name: 'dir', type: 'directory', mode: 0o1777, uid: 7, gid: 8, mtime: t(1_000_000_000) },
          { name: 'dir/setuid', body: 'suid', mode: 0o4755, uid: 1000, gid: 1000, mtime: t(1_100_000_000) },
          { name: 'dir/setgid', body: 'sgid', mode: 0o2711, uid: 0, gid: 50, mtime: t(1_100_000_001) },
          { name: 'dir/hard', type: 'link', linkname: 'dir/setuid' },
          { name: 'dir/sym', type: 'symlink', linkname: '../nowhere/at/all', uid: 33, gid: 34, mtime: t(1_200_000_000) },
          { name: 'dev', type: 'directory', mtime: t(1_300_000_000) },
          { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime: t(1_300_000_001) },
          { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6, mtime: t(1_300_000_002) },
          { name: 'dev/fifo', type: 'fifo', mode: 0o620, uid: 5, mtime: t(1_300_000_003) },
          { name: 'dev/hardnull', type: 'link', linkname: 'dev/null' },
          { name: 'x/attrs', body: 'a', pax: { 'SCHILY.xattr.user.color': 'blue', 'SCHILY.xattr.trusted.note': 'hi' } },
          { name: 'x/dir', type: 'directory', pax: { 'SCHILY.xattr.user.d': 'dirattr' } },
        ]);
        const id = chainId([ids[2]!, digest(tar)]);
        await s.applyLayer(id, ids[2], Readable.from([tar]));
        const dir = s.layerPath(id);
        const st = (p: string) => lstatSync(join(dir, p), { bigint: true });
        const d = st('dir');
        assert.ok(d.isDirectory());
        assert.equal(Number(d.mode) & 0o7777, 0o1777);
        assert.deepEqual([d.uid, d.gid], [7n, 8n]);
        assert.equal(d.mtimeNs, 1_000_000_000n * 1_000_000_000n, 'directory mtime set after its contents');
        const su = st('dir/setuid');
        assert.equal(Number(su.mode) & 0o7777, 0o4755);
        assert.deepEqual([su.uid, su.gid], [1000n, 1000n]);
        assert.equal(su.mtimeNs, 1_100_000_000n * 1_000_000_000n);
        assert.equal(readFileSync(join(dir, 'dir/setuid'), 'utf8'), 'suid');
        assert.equal(Number(st('dir/setgid').mode) & 0o7777, 0o2711);
        assert.equal(st('dir/hard').ino, su.ino);
        assert.equal(su.nlink, 2n);
        const sym = st('dir/sym');
        assert.ok(sym.isSymbolicLink());
        assert.equal(readlinkSync(join(dir, 'dir/sym')), '../nowhere/at/all');
        assert.deepEqual([sym.uid, sym.gid], [33n, 34n]);
        assert.equal(sym.mtimeNs, 1_200_000_000n * 1_000_000_000n);
        const nul = st('dev/null');
        assert.ok(nul.isCharacterDevice());
        assert.equal(nul.rdev, (1n << 8n) | 3n);
        assert.equal(Number(nul.mode) & 0o7777, 0o666);
        assert.equal(nul.mtimeNs, 1_300_000_001n * 1_000_000_000n);
        assert.equal(st('dev/hardnull').ino, nul.ino);
        const loop = st('dev/loop0');
        assert.ok(loop.isBlockDevice());
        assert.equal(loop.rdev, 7n << 8n);
        assert.equal(loop.gid, 6n);
        const fifo = st('dev/fifo');
        assert.ok(fifo.isFIFO());
        assert.equal(Number(fifo.mode) & 0o7777, 0o620);
        assert.equal(fifo.uid, 5n);
        assert.equal(st('dev').mtimeNs, 1_300_000_000n * 1_000_000_000n, 'mknod inside did not move the directory time');
        const xa = await xattrsOf(dir, ['x/attrs', 'x/dir']);
        assert.equal(xa.get('x/attrs')?.get('user.color')?.toString(), 'blue');
        assert.equal(xa.get('x/attrs')?.get('trusted.note')?.toString(), 'hi');
        assert.equal(xa.get('x/dir')?.get('user.d')?.toString(), 'dirattr');
      });

      it('keeps a binary security.capability byte for byte (a tar written by GNU tar)', async () => {
        // Make a file with the capability (by berth-helper), archive it with GNU tar, apply that.
        const src = mkdtempSync(join(tmpdir(), 'berth-cap-'));
        roots.push(src);
        writeFileSync(join(src, 'ping'), 'binary');
        chmodSync(join(src, 'ping'), 0o755);
        const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
        await runFsOps([{ op: 'setxattr', path: join(src, 'ping'), name: 'security.capability', value: cap }]);
        const tar = gnuTar(src, ['ping']);
        const id = digest(tar);
        const r = await s.applyLayer(id, undefined, Readable.from([tar]));
        assert.equal(r.diffId, id);
        const xa = await xattrsOf(s.layerPath(id), ['ping']);
        assert.deepEqual(xa.get('ping')?.get('security.capability'), cap);
        s.removeLayer(id);
      });

      it('a gzip layer unpacks to the same layer and diff ID as the plain tar', async () => {
        const plain = await tarOf([{ name: 'g/file', body: 'gz'.repeat(1000) }]);
        const id = digest(plain);
        const r = await s.applyLayer(id, undefined, Readable.from([gzipSync(plain)]), { expectDiffId: id });
        assert.equal(r.diffId, id);
        assert.equal(readFileSync(join(s.layerPath(id), 'g/file'), 'utf8'), 'gz'.repeat(1000));
        assert.ok(s.layerSize(id) > 0);
        // Applying an existing layer reads nothing of the stream.
        let read = false;
        const untouched = new Readable({
          read() {
            read = true;
            this.push(null);
          },
        });
        assert.deepEqual(await s.applyLayer(id, undefined, untouched), r);
        assert.equal(read, false);
        untouched.destroy();
        s.removeLayer(id);
        assert.equal(s.hasLayer(id), false);
      });

      it('a hardlink to a file of a lower layer works (overlay copies the file up)', async () => {
        const tar = await tarOf([{ name: 'lib/libc-link', type: 'link', linkname: 'lib/libc.so' }]);
        const id = chainId([ids[2]!, digest(tar)]);
        await s.applyLayer(id, ids[2], Readable.from([tar]));
        const dir = s.layerPath(id);
        assert.equal(lstatSync(join(dir, 'lib/libc-link')).ino, lstatSync(join(dir, 'lib/libc.so')).ino);
        assert.equal(readFileSync(join(dir, 'lib/libc-link'), 'utf8'), 'libc');
        // The lower layer's file itself is untouched (its link count too); overlay made a copy.
        const lower = lstatSync(join(s.layerPath(ids[0]!), 'lib/libc.so'));
        assert.equal(lower.nlink, 1);
        assert.notEqual(lstatSync(join(dir, 'lib/libc.so')).ino, lower.ino);
        s.removeLayer(id);
      });

      it('a writable snapshot changes, adds and deletes; lower layers stay untouched; changes() lists it as docker diff', async () => {
        const base = await applyChain(s, [
          await tarOf([
            { name: 'etc', type: 'directory' },
            { name: 'etc/passwd', body: 'root:x:0:0\n' },
            { name: 'etc/group', body: 'root:x:0:\n' },
            { name: 'etc/hosts', body: '127.0.0.1 localhost\n' },
            { name: 'usr/bin/app', body: '#!/bin/sh\n', mode: 0o755 },
            { name: 'usr/lib/libx.so', body: 'x' },
            { name: 'var/log/old.log', body: 'old' },
            { name: 'home/user/.profile', body: 'profile' },
            { name: 'home/user/docs/a.txt', body: 'a' },
            { name: 'tmp', type: 'directory', mode: 0o1777 },
          ]),
          await tarOf([
            { name: 'usr/bin/tool', body: 'tool', mode: 0o755 },
            { name: 'usr/bin/tool-link', type: 'symlink', linkname: 'tool' },
          ]),
        ]);
        const layerDirs = base.map((id) => s.layerPath(id));
        const before = layerDirs.map(fingerprint);
        const key = `rw-${driver}`;
        const target = join(s.root, 'mnt-rw');
        await mountAt(s.prepare(key, base[1]), target);
        let view: Map<string, string>;
        try {
          writeFileSync(join(target, 'etc/passwd'), 'root:x:0:0\nuser:x:1000:1000\n');
          rmSync(join(target, 'etc/group'));
          writeFileSync(join(target, 'etc/new.conf'), 'new');
          rmSync(join(target, 'var/log'), { recursive: true });
          mkdirSync(join(target, 'srv/www'), { recursive: true });
          writeFileSync(join(target, 'srv/www/index.html'), '<html>');
          chmodSync(join(target, 'usr/bin/app'), 0o700);
          chownSync(join(target, 'usr/bin/tool'), 1000, 1000);
          rmSync(join(target, 'home/user'), { recursive: true });
          mkdirSync(join(target, 'home/user'));
          writeFileSync(join(target, 'home/user/new'), 'n');
          utimesSync(join(target, 'etc/hosts'), new Date(1_500_000_000_000), new Date(1_500_000_000_000)); // a touch is a change
          linkSync(join(target, 'srv/www/index.html'), join(target, 'srv/www/index-link.html'));
          symlinkSync('www/index.html', join(target, 'srv/home'));
          await runFsOps([
            { op: 'mknod', path: join(target, 'srv/fifo'), mode: 0o010640, major: 0, minor: 0, uid: 12, gid: 13 },
            { op: 'mknod', path: join(target, 'srv/tty'), mode: 0o020620, major: 4, minor: 1, uid: 0, gid: 5 },
            { op: 'setxattr', path: join(target, 'srv/www/index.html'), name: 'trusted.color', value: 'red' },
            { op: 'setxattr', path: join(target, 'usr/bin/app'), name: 'security.capability', value: CAP },
          ]);
          view = tree(target, { mtime: true });
        } finally {
          await unmount(target);
        }
        const expected = [
          'C /etc',
          'D /etc/group',
          'C /etc/hosts',
          'A /etc/new.conf',
          'C /etc/passwd',
          'C /home',
          'C /home/user',
          'D /home/user/.profile',
          'D /home/user/docs',
          'A /home/user/new',
          'A /srv',
          'A /srv/fifo',
          'A /srv/home',
          'A /srv/tty',
          'A /srv/www',
          'A /srv/www/index-link.html',
          'A /srv/www/index.html',
          'C /usr',
          'C /usr/bin',
          'C /usr/bin/app',
          'C /usr/bin/tool',
          'C /var',
          'D /var/log',
        ];
        assert.deepEqual((await s.changes(key)).map((c) => `${c.kind} ${c.path}`), expected);
        assert.ok((await s.writableSize(key)) > 0);

        // The diff as a layer tar: whiteouts, deterministic.
        const read = async () => {
          const parts: Buffer[] = [];
          for await (const c of s.diffTar(key)) parts.push(c as Buffer);
          return Buffer.concat(parts);
        };
        const diff = await read();
        assert.deepEqual(await read(), diff, 'the same tree gives the same bytes');
        const names: string[] = [];
        const ex = tarStream.extract();
        ex.on('entry', (h, st, next) => {
          names.push(h.name);
          st.on('end', () => next());
          st.resume();
        });
        await new Promise<void>((resolve, reject) => {
          ex.on('finish', resolve);
          ex.on('error', reject);
          ex.end(diff);
        });
        assert.ok(names.includes('etc/.wh.group'));
        assert.ok(names.includes('var/.wh.log'));
        if (driver === 'overlay') assert.ok(names.includes('home/user/.wh..wh..opq'), names.join(' '));
        else assert.ok(names.includes('home/user/.wh..profile') && names.includes('home/user/.wh.docs'), names.join(' '));

        // Re-applied on the parent, the diff reproduces the changed tree.
        const newId = chainId([base[1]!, digest(diff)]);
        await s.applyLayer(newId, base[1], Readable.from([diff]), { expectDiffId: digest(diff) });
        const check = `check-${driver}`;
        await mountAt(s.prepare(check, newId), target);
        try {
          assert.deepEqual([...tree(target, { mtime: true })], [...view!]);
          const xa = await xattrsOf(target, ['srv/www/index.html', 'usr/bin/app']);
          assert.equal(xa.get('srv/www/index.html')?.get('trusted.color')?.toString(), 'red');
          assert.deepEqual(xa.get('usr/bin/app')?.get('security.capability'), CAP);
        } finally {
          await unmount(target);
          s.remove(check);
        }
        // commit() does the same and lands on the same layer.
        const c = await s.commit(key);
        assert.equal(c.chainId, newId);
        assert.deepEqual(layerDirs.map(fingerprint), before, 'the lower layers did not change');
        s.remove(key);
        assert.throws(() => s.mounts(key), /not found/);
      });

      it('concurrent applies of one layer, in this process and another, end with one good layer', async () => {
        const tar = await tarOf(Array.from({ length: 200 }, (_, i) => ({ name: `many/f${i}`, body: randomBytes(2000) })));
        const id = digest(tar);
        const file = join(s.root, 'layer.tar');
        writeFileSync(file, tar);
        const here = fileURLToPath(new URL('../../src/snapshot/index.js', import.meta.url));
        const script = `import { Snapshotter } from ${JSON.stringify(here)}; import { createReadStream } from 'node:fs';
          const s = new Snapshotter(${JSON.stringify(s.root)}, ${JSON.stringify(driver)});
          const r = await s.applyLayer(${JSON.stringify(id)}, undefined, createReadStream(${JSON.stringify(file)}));
          process.stdout.write(JSON.stringify(r));`;
        const scriptFile = join(s.root, 'apply-child.mjs');
        writeFileSync(scriptFile, script);
        const child = spawn(process.execPath, [scriptFile], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        const a = new Snapshotter(s.root, driver);
        const b = new Snapshotter(s.root, driver);
        const [ra, rb] = await Promise.all([a.applyLayer(id, undefined, Readable.from([tar])), b.applyLayer(id, undefined, Readable.from([tar]))]);
        assert.equal(await exited, 0);
        const rc = JSON.parse(out) as { diffId: string };
        assert.equal(ra.diffId, id);
        assert.equal(rb.diffId, id);
        assert.equal(rc.diffId, id);
        assert.equal(s.listLayers().filter((l) => l === id).length, 1);
        const dirs = readdirSync(join(s.root, driver, 'l'));
        assert.equal(dirs.length, s.listLayers().length, 'no orphaned layer directory');
        assert.deepEqual(readdirSync(join(s.root, driver, 'tmp')), []);
        assert.equal(readdirSync(join(s.layerPath(id), 'many')).length, 200);
        s.removeLayer(id);
      });

      it('remove() unmounts what is still mounted of the snapshot, lazily, then removes it', async () => {
        const key = `busy-${driver}`;
        const mounts = s.prepare(key, ids[2]);
        const snapDir = dirname(mounts[0]!.type === 'bind' ? mounts[0]!.source : mounts[0]!.options.find((o) => o.startsWith('upperdir='))!.slice('upperdir='.length));
        const inside = join(snapDir, 'rootfs');
        const outside = join(s.root, 'mnt-busy');
        await mountAt(mounts, inside);
        await mountAt(mounts, outside);
        assert.ok(isMounted(inside) && isMounted(outside));
        s.remove(key);
        assert.equal(isMounted(inside), false);
        if (driver === 'overlay') assert.equal(isMounted(outside), false, 'the overlay using its upper directory is gone too');
        else await unmount(outside);
        mounted.splice(mounted.indexOf(inside), 1);
        if (driver === 'overlay') mounted.splice(mounted.indexOf(outside), 1);
        assert.equal(existsSync(snapDir), false);
        assert.deepEqual(readdirSync(join(s.root, driver, 'tmp')), []);
      });

      it('refuses to remove a layer something stands on; names what', async () => {
        const [top] = await applyChain(s, [await tarOf([{ name: 'leaf', body: 'leaf' }])], ids[2]);
        s.prepare(`keep-${driver}`, top);
        assert.throws(() => s.removeLayer(ids[2]!), new RegExp(`remove layer ${ids[2]}: layer sha256:[0-9a-f]{64} stands on it`));
        assert.throws(() => s.removeLayer(top!), new RegExp(`remove layer ${top}: snapshot "keep-${driver}" stands on it`));
        s.remove(`keep-${driver}`);
        s.removeLayer(top!);
        assert.equal(s.hasLayer(top!), false);
        assert.throws(() => s.removeLayer(top!), /not found/);
        assert.throws(() => s.prepare('bad key', undefined), /snapshot key/);
        assert.throws(() => s.prepare('x', `sha256:${'0'.repeat(64)}`), /not found/);
      });
    });
  }
});
