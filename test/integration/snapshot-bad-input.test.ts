/**
 * Layer tars that try to write outside the layer, or are broken, for both drivers: each is refused
 * with an InvalidArgument error that names the layer and the culprit, nothing is written outside
 * (a canary directory, the target of the hostile links, stays empty), no layer is stored and no
 * temporary directory is left. Everything made here is removed in `after`, also on failure.
 */
import { tarOf, type TarIn } from '../tar-of.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { isBerthError } from '../../src/lib/errors.js';
import { Snapshotter, chainId, type Driver } from '../../src/snapshot/index.js';

const isRoot = process.getuid?.() === 0;


/** A ustar header block for `name` with the right checksum (tar-stream refuses names like "/abs" or "../x" only sometimes). */
function rawEntry(name: string, body = Buffer.alloc(0), flag = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(body.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('13000000000\0', 136, 'latin1');
  h.fill(0x20, 148, 156);
  h.write(flag, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
const END = Buffer.alloc(1024);

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const dirs: string[] = [];
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const driver of ['overlay', 'vfs'] as Driver[]) {
  describe(`bad layer input (${driver})`, { skip: isRoot ? false : 'needs root' }, () => {
    const root = tmp('berth-snap-bad-');
    const canary = tmp('berth-canary-');
    const s = new Snapshotter(root, driver);
    let base: string;

    /** Applies `tar` (on `parent`) expecting an InvalidArgument error matching `re`; checks nothing was left anywhere. */
    async function refused(tar: Buffer, re: RegExp, opts: { parent?: string; expectDiffId?: string; chain?: string } = {}): Promise<void> {
      const layersBefore = s.listLayers();
      const dirsBefore = readdirSync(join(root, driver, 'l')).sort();
      const id = opts.chain ?? (opts.parent ? chainId([opts.parent, digest(tar)]) : digest(tar));
      const opt = opts.expectDiffId ? { expectDiffId: opts.expectDiffId } : {};
      await assert.rejects(s.applyLayer(id, opts.parent, Readable.from([tar]), opt), (e: unknown) => {
        assert.ok(isBerthError(e, 'InvalidArgument'), `want InvalidArgument, got ${String(e)}`);
        assert.ok(e.message.startsWith(`apply layer ${id}: `), e.message);
        assert.match(e.message, re);
        return true;
      });
      assert.deepEqual(readdirSync(canary), [], 'nothing was written outside');
      assert.deepEqual(s.listLayers(), layersBefore, 'no layer stored');
      assert.equal(s.hasLayer(id), false);
      assert.deepEqual(readdirSync(join(root, driver, 'l')).sort(), dirsBefore, 'no layer directory');
      assert.deepEqual(readdirSync(join(root, driver, 'tmp')), [], 'no temporary directory left');
    }

    // Set-up, not a test: the base layer the cases on a parent need.
    before(async () => {
      const tar = await tarOf([{ name: 'etc/passwd', body: 'root' }, { name: 'outlink', type: 'symlink', linkname: canary }]);
      base = digest(tar);
      await s.applyLayer(base, undefined, Readable.from([tar]));
      assert.equal(readlinkSync(join(s.layerPath(base), 'outlink')), canary, 'the base layer holds the hostile link');
    });

    it('"../x": a path that climbs out', async () => {
      await refused(Buffer.concat([rawEntry('../x', Buffer.from('evil')), END]), /entry "\.\.\/x": path escapes the layer root$/);
      await refused(Buffer.concat([rawEntry('a/../../x', Buffer.from('evil')), END]), /entry "a\/\.\.\/\.\.\/x": path escapes the layer root$/);
      await refused(Buffer.concat([rawEntry(`../../../../../..${canary}/x`, Buffer.from('evil')), END]), /path escapes the layer root$/);
    });

    it('"/abs": an absolute path', async () => {
      await refused(Buffer.concat([rawEntry(`${canary}/abs`, Buffer.from('evil')), END]), new RegExp(`entry "${canary}/abs": path is absolute$`));
    });

    it('a symlinked parent pointing outside: a -> canary, then a/file', async () => {
      await refused(await tarOf([{ name: 'a', type: 'symlink', linkname: canary }, { name: 'a/file', body: 'evil' }]), /entry "a\/file": parent "a" is a symbolic link$/);
      // Pointing inside is refused the same way: nothing is written through a symlink.
      await refused(await tarOf([{ name: 'real', type: 'directory' }, { name: 'a', type: 'symlink', linkname: 'real' }, { name: 'a/file', body: 'x' }]), /entry "a\/file": parent "a" is a symbolic link$/);
      // A directory replaced by a symlink later in the same tar: the check is not fooled by having seen the directory.
      await refused(
        await tarOf([{ name: 'd', type: 'directory' }, { name: 'd/ok', body: 'ok' }, { name: 'd', type: 'symlink', linkname: canary }, { name: 'd/file', body: 'evil' }]),
        /entry "d\/file": parent "d" is a symbolic link$/,
      );
      // Also deeper, and for other entry types.
      await refused(await tarOf([{ name: 'x/y', type: 'symlink', linkname: canary }, { name: 'x/y/z/dev', type: 'fifo' }]), /entry "x\/y\/z\/dev": parent "x\/y" is a symbolic link$/);
      await refused(await tarOf([{ name: 'l', type: 'symlink', linkname: canary }, { name: 'l/.wh.anything' }]), /entry "l\/\.wh\.anything": parent "l" is a symbolic link$/);
    });

    it('a symlinked parent from a lower layer: outlink -> canary in the base, outlink/file on top', async () => {
      const re = driver === 'vfs' ? /entry "outlink\/file": parent "outlink" is a symbolic link$/ : /entry "outlink\/file": parent "outlink" is a symbolic link in a lower layer$/;
      await refused(await tarOf([{ name: 'outlink/file', body: 'evil' }]), re, { parent: base });
    });

    it('a hardlink to an outside path, to a missing file, through a symlink', async () => {
      await refused(await tarOf([{ name: 'h', type: 'link', linkname: '/etc/passwd' }]), /entry "h": hardlink target "\/etc\/passwd": path is absolute$/);
      await refused(await tarOf([{ name: 'h', type: 'link', linkname: '../../../../etc/passwd' }]), /entry "h": hardlink target "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd": path escapes the layer root$/);
      await refused(await tarOf([{ name: 'h', type: 'link', linkname: 'missing' }]), /entry "h": hardlink target "missing" does not exist$/);
      await refused(await tarOf([{ name: 's', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 's/passwd' }]), /entry "h": hardlink target "s\/passwd": "s" is a symbolic link$/);
      await refused(await tarOf([{ name: 'h', type: 'link', linkname: 'outlink/x' }]), /entry "h": hardlink target "outlink\/x"/, { parent: base });
      await refused(await tarOf([{ name: 'dir', type: 'directory' }, { name: 'h', type: 'link', linkname: 'dir' }]), /entry "h": hardlink target "dir" is a directory$/);
      // A file the same layer whited out is gone.
      await refused(await tarOf([{ name: 'etc/.wh.passwd' }, { name: 'h', type: 'link', linkname: 'etc/passwd' }]), /entry "h": hardlink target "etc\/passwd" does not exist$/, { parent: base });
    });

    it('whiteouts that would escape', async () => {
      await refused(await tarOf([{ name: '.wh...' }]), /entry "\.wh\.\.\.": whiteout "\.wh\.\.\." escapes its directory$/);
      await refused(await tarOf([{ name: 'a/.wh..' }]), /whiteout "\.wh\.\." escapes its directory$/);
      await refused(Buffer.concat([rawEntry('../.wh.x'), END]), /entry "\.\.\/\.wh\.x": path escapes the layer root$/);
    });

    it('a truncated tar', async () => {
      const tar = await tarOf([{ name: 'big', body: Buffer.alloc(100_000, 1) }, { name: 'after', body: 'x' }]);
      await refused(tar.subarray(0, 50_000), /: unexpected end of tar$/);
      await refused(tar.subarray(0, 512 + 100_352), /: unexpected end of tar$/); // cut at an entry boundary
    });

    it('a corrupt tar header', async () => {
      const tar = await tarOf([{ name: 'a', body: 'aaa' }, { name: 'b', body: 'bbb' }]);
      const bad = Buffer.from(tar);
      bad[1024 + 3] ^= 0x55;
      await refused(bad, /: invalid tar header at byte 1024: checksum mismatch$/);
      await refused(Buffer.from('not a tar at all\n'.repeat(100)), /: invalid tar header at byte 0/);
    });

    it('a corrupt gzip and a truncated gzip', async () => {
      const tar = await tarOf([{ name: 'f', body: Buffer.from('some compressible text '.repeat(5000)) }]);
      const gz = gzipSync(tar);
      const corrupt = Buffer.from(gz);
      for (let i = 20; i < 60; i++) corrupt[i] ^= 0xa5;
      await refused(corrupt, /: corrupt gzip stream: /, { chain: digest(tar) });
      await refused(gz.subarray(0, gz.length >> 1), /: unexpected end of gzip stream$/, { chain: digest(tar) });
    });

    it('a compression berth does not read', async () => {
      const zstdMagic = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
      await refused(zstdMagic, /: corrupt zstd stream: /);
    });

    it('a diff ID that does not match expectDiffId, and a chain ID that does not match the tar', async () => {
      const tar = await tarOf([{ name: 'f', body: 'content' }]);
      const wrong = `sha256:${'0'.repeat(64)}`;
      await refused(tar, new RegExp(`: diff ID mismatch: the tar's is ${digest(tar)}, expected ${wrong}$`), { expectDiffId: wrong });
      await refused(tar, /: chain ID mismatch: parent \(none\) and diff ID sha256:[0-9a-f]{64} give sha256:/, { chain: wrong });
    });

    it('an entry that would replace the layer root, and overlay-reserved xattrs', async () => {
      await refused(Buffer.concat([rawEntry('.', Buffer.from('x'), '0'), END]), /entry "\.": entry would replace the layer root$/);
      await refused(Buffer.concat([rawEntry('./', Buffer.alloc(0), '2', '/etc'), END]), /entry "\.\/": entry would replace the layer root$/);
      // trusted.overlay.* would let a layer forge overlay's own metadata (opaque, redirect, metacopy).
      const p = tarStream.pack();
      p.entry({ name: 'f', mtime: new Date(0), pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } } as tarStream.Header, 'x');
      p.finalize();
      const parts: Buffer[] = [];
      for await (const c of p) parts.push(c as Buffer);
      await refused(Buffer.concat(parts), /entry "f": xattr "trusted\.overlay\.redirect" is reserved for overlayfs$/);
    });

    it('the store is still usable afterwards', async () => {
      const tar = await tarOf([{ name: 'ok', body: 'fine' }]);
      await s.applyLayer(chainId([base, digest(tar)]), base, Readable.from([tar]));
      assert.equal(existsSync(join(s.layerPath(chainId([base, digest(tar)])), 'ok')), true);
    });
  });
}
