/**
 * The layer tar reader and header writer: tars written by tar-stream (an independent writer) read
 * back field by field, in any chunking; binary xattrs kept byte for byte both ways; what
 * tar-stream reads of ours; and each malformed input refused with its reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tarStream from 'tar-stream';
import { chainId } from './index.js';
import { cleanPath } from './apply.js';
import { comparePaths } from './diff.js';
import { END_OF_ARCHIVE, TarFormatError, TarParser, dataPadding, encodeHeader, type TarEntry } from './tar.js';

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

async function pack(entries: In[]): Promise<Buffer> {
  const p = tarStream.pack();
  for (const e of entries) {
    const { body, ...h } = e;
    const type = h.type ?? 'file';
    if (type === 'file') p.entry({ ...h, type } as tarStream.Header, body ?? '');
    else p.entry({ ...h, type } as tarStream.Header);
  }
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p) out.push(c as Buffer);
  return Buffer.concat(out);
}

interface Read {
  entry: TarEntry;
  data: Buffer;
}

/** Reads a whole tar, fed in chunks of `step` bytes. */
function readAll(buf: Buffer, step = buf.length || 1): Read[] {
  const p = new TarParser();
  const out: Read[] = [];
  let cur: { entry: TarEntry; parts: Buffer[] } | undefined;
  for (let off = 0; off < buf.length; off += step) {
    if (p.ended) break;
    p.write(buf.subarray(off, off + step));
    for (let ev = p.next(); ev; ev = p.next()) {
      if (ev.kind === 'entry') cur = { entry: ev.entry, parts: [] };
      else if (ev.kind === 'data') cur!.parts.push(Buffer.from(ev.data));
      else {
        out.push({ entry: cur!.entry, data: Buffer.concat(cur!.parts) });
        cur = undefined;
      }
    }
  }
  p.finish();
  return out;
}

test('reads what tar-stream writes: every type, long names, PAX, in any chunking', async () => {
  const longName = `${'d'.repeat(120)}/${'n'.repeat(90)}/file-with-a-long-name`;
  const mtime = new Date(1_700_000_000_000);
  const tar = await pack([
    { name: 'dir', type: 'directory', mode: 0o1777, uid: 10, gid: 20, mtime },
    { name: 'dir/file', body: 'hello', mode: 0o4755, uid: 1000, gid: 1001, mtime },
    { name: 'dir/sym', type: 'symlink', linkname: '../elsewhere', mtime },
    { name: 'dir/hard', type: 'link', linkname: 'dir/file', mtime },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, mtime },
    { name: 'pipe', type: 'fifo', mode: 0o600, mtime },
    { name: longName, body: Buffer.alloc(1500, 7), mtime },
    { name: 'ünïcode/名前', body: 'u', mtime },
    { name: 'with-xattr', body: 'x', mtime, pax: { 'SCHILY.xattr.user.k': 'value' } },
  ]);
  for (const step of [tar.length, 512, 100, 1]) {
    const got = readAll(tar, step);
    assert.deepEqual(
      got.map((r) => [r.entry.name.replace(/\/$/, ''), r.entry.type]),
      [
        ['dir', 'dir'],
        ['dir/file', 'file'],
        ['dir/sym', 'symlink'],
        ['dir/hard', 'link'],
        ['dev/null', 'char'],
        ['dev/sda', 'block'],
        ['pipe', 'fifo'],
        [longName, 'file'],
        ['ünïcode/名前', 'file'],
        ['with-xattr', 'file'],
      ],
      `chunks of ${step}`,
    );
    const [dir, file, sym, hard, nul, sda, , long, , xa] = got;
    assert.equal(dir!.entry.mode, 0o1777);
    assert.deepEqual([dir!.entry.uid, dir!.entry.gid], [10, 20]);
    assert.equal(file!.entry.mode, 0o4755);
    assert.deepEqual([file!.entry.uid, file!.entry.gid, file!.entry.size], [1000, 1001, 5]);
    assert.equal(file!.data.toString(), 'hello');
    assert.equal(file!.entry.mtimeNs, 1_700_000_000n * 1_000_000_000n);
    assert.equal(sym!.entry.linkname, '../elsewhere');
    assert.equal(hard!.entry.linkname, 'dir/file');
    assert.deepEqual([nul!.entry.devmajor, nul!.entry.devminor], [1, 3]);
    assert.deepEqual([sda!.entry.devmajor, sda!.entry.devminor], [8, 0]);
    assert.deepEqual(long!.data, Buffer.alloc(1500, 7));
    assert.equal(xa!.entry.xattrs?.get('user.k')?.toString(), 'value');
  }
});

test('our headers: binary xattrs, long and non-ASCII names, big ids round-trip, and tar-stream reads them', async () => {
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const long = `${'x'.repeat(300)}/é`;
  const parts = [
    encodeHeader({ name: 'bin/ping', type: 'file', mode: 0o755, uid: 0, gid: 0, size: 3, mtimeSec: 1234, xattrs: new Map([['security.capability', cap], ['user.a', Buffer.from('b')]]) }),
    Buffer.from('abc'),
    dataPadding(3),
    encodeHeader({ name: long, type: 'symlink', mode: 0o777, uid: 3_000_000, gid: 4_000_000, size: 0, mtimeSec: 5, linkname: `${'t'.repeat(150)}ü` }),
    encodeHeader({ name: 'd', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSec: 6 }),
    encodeHeader({ name: 'd/.wh.gone', type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtimeSec: 0 }),
    END_OF_ARCHIVE,
  ];
  const tar = Buffer.concat(parts);
  const got = readAll(tar, 7);
  assert.equal(got.length, 4);
  assert.deepEqual(got[0]!.entry.xattrs?.get('security.capability'), cap);
  assert.equal(got[0]!.data.toString(), 'abc');
  assert.equal(got[1]!.entry.name, long);
  assert.equal(got[1]!.entry.linkname, `${'t'.repeat(150)}ü`);
  assert.deepEqual([got[1]!.entry.uid, got[1]!.entry.gid], [3_000_000, 4_000_000]);
  assert.equal(got[2]!.entry.name, 'd/');
  assert.equal(got[2]!.entry.type, 'dir');

  const names: string[] = [];
  const ex = tarStream.extract();
  ex.on('entry', (h, s, next) => {
    names.push(`${h.type} ${h.name}`);
    s.on('end', () => next());
    s.resume();
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    ex.end(tar);
  });
  assert.deepEqual(names, ['file bin/ping', `symlink ${long}`, 'directory d/', 'file d/.wh.gone']);
});

test('malformed archives are refused with the reason', async () => {
  const tar = await pack([{ name: 'a', body: Buffer.alloc(3000, 1) }, { name: 'b', body: 'b' }]);
  const fails = (buf: Buffer, re: RegExp) => assert.throws(() => readAll(buf, 100), (e: unknown) => e instanceof TarFormatError && re.test(e.message));
  fails(tar.subarray(0, 1000), /^unexpected end of tar$/); // inside a file's data
  fails(tar.subarray(0, 512 + 3072), /^unexpected end of tar$/); // at an entry boundary, no end marker
  fails(tar.subarray(0, 100), /^unexpected end of tar$/); // inside a header
  const bad = Buffer.from(tar);
  bad[10] = 0x41; // name changes, checksum does not
  fails(bad, /^invalid tar header at byte 0: checksum mismatch$/);
  const bad2 = Buffer.from(tar);
  bad2[512 + 3072 + 5] ^= 0xff;
  fails(bad2, /^invalid tar header at byte 3584: checksum mismatch$/);
  // Not a tar at all.
  fails(Buffer.from('this is not a tar archive, just text that goes on for a while'.repeat(20)), /^invalid tar header/);
  // A sparse file, and an unknown type.
  const sparse = encodeHeader({ name: 's', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtimeSec: 0 });
  sparse[156] = 'S'.charCodeAt(0);
  let sum = 0;
  sparse.fill(0x20, 148, 156);
  for (const b of sparse) sum += b;
  sparse.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  fails(Buffer.concat([sparse, END_OF_ARCHIVE]), /sparse files are not supported/);
  // An empty stream is an empty layer; one zero block then the end is accepted (as Go does).
  assert.deepEqual(readAll(Buffer.alloc(0)), []);
  assert.deepEqual(readAll(Buffer.alloc(512)), []);
  // Bytes after the end-of-archive marker are ignored.
  assert.equal(readAll(Buffer.concat([tar, Buffer.from('trailing')])).length, 2);
});

test('paths are cleaned lexically; absolute paths and escapes are refused', () => {
  assert.equal(cleanPath('./a//b/./c/'), 'a/b/c');
  assert.equal(cleanPath('a/../b'), 'b');
  assert.equal(cleanPath('./'), '');
  assert.throws(() => cleanPath('../x'), /escapes the layer root/);
  assert.throws(() => cleanPath('a/../../x'), /escapes the layer root/);
  assert.throws(() => cleanPath('/etc/passwd'), /absolute/);
});

test('chain IDs follow the OCI definition', () => {
  const a = `sha256:${'a'.repeat(64)}`;
  const b = `sha256:${'b'.repeat(64)}`;
  const c = `sha256:${'c'.repeat(64)}`;
  assert.equal(chainId([a]), a);
  // sha256("sha256:aaa… sha256:bbb…"), computed independently with sha256sum
  const ab = chainId([a, b]);
  assert.equal(ab, 'sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c');
  // chainId(L0..L2) = H(chainId(L0..L1) + " " + L2)
  assert.equal(chainId([a, b, c]), chainId([ab, c]));
  assert.throws(() => chainId([]), /no layers/);
  assert.throws(() => chainId(['sha256:short']), /not a sha256 digest/);
});

test('change paths sort parents first, component by component', () => {
  const paths = ['/a-b', '/a/b', '/a', '/a/b/c', '/B', '/a.b'];
  assert.deepEqual(paths.sort(comparePaths), ['/B', '/a', '/a/b', '/a/b/c', '/a-b', '/a.b']);
});
