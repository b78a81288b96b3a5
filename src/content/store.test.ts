/**
 * The content store: round trips, expectations checked before a blob is visible, stream errors,
 * several processes writing one blob at once, kill -9 in the middle of a write, corruption, gc.
 * Every test has its own temporary root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBerthError } from '../lib/errors.js';
import { digestOf, sha256 } from '../lib/digest.js';
import { ContentStore } from './index.js';

const INDEX_URL = new URL('./index.js', import.meta.url).href;

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-content-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ingestFiles(root: string): string[] {
  return existsSync(join(root, 'ingest')) ? readdirSync(join(root, 'ingest')) : [];
}

/** The store holds nothing: no blob and no temporary file. */
function assertEmpty(store: ContentStore): void {
  assert.deepEqual(store.list(), []);
  assert.deepEqual(ingestFiles(store.root), []);
}

function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}

function isInvalid(re: RegExp) {
  return (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), `expected InvalidArgument, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

test('round trip: writeSync and write, from buffers, strings, streams and generators', async (t) => {
  const store = new ContentStore(tempRoot(t));
  assert.equal(store.has(sha256('x')), false);
  assert.equal(store.info(sha256('x')), undefined);

  const a = store.writeSync('hello');
  assert.deepEqual(a, { digest: sha256('hello'), size: 5 });
  assert.ok(store.has(a.digest));
  assert.deepEqual(store.info(a.digest), a);
  assert.equal(store.path(a.digest), join(store.root, 'blobs', 'sha256', a.digest.slice(7)));
  assert.equal(store.read(a.digest).toString(), 'hello');
  assert.equal(store.readVerified(a.digest).toString(), 'hello');
  store.verify(a.digest);
  assert.equal(statSync(store.path(a.digest)).mode & 0o777, 0o444, 'blobs are read-only');

  const big = pattern(5 * 1024 * 1024 + 3);
  const chunks = [big.subarray(0, 100), big.subarray(100, 3_000_000), big.subarray(3_000_000)];
  const b = await store.write(Readable.from(chunks), { digest: sha256(big), size: big.length });
  assert.deepEqual(b, { digest: sha256(big), size: big.length });
  assert.ok(store.read(b.digest).equals(big));
  const streamed: Buffer[] = [];
  for await (const c of store.createReadStream(b.digest)) streamed.push(c as Buffer);
  assert.ok(Buffer.concat(streamed).equals(big));
  const part: Buffer[] = [];
  for await (const c of store.createReadStream(b.digest, { start: 10, end: 19 })) part.push(c as Buffer);
  assert.ok(Buffer.concat(part).equals(big.subarray(10, 20)));

  async function* gen() {
    yield 'wor';
    yield new Uint8Array(Buffer.from('ld'));
  }
  const c = await store.write(gen());
  assert.deepEqual(c, { digest: sha256('world'), size: 5 });
  const empty = await store.write(Readable.from([]), { size: 0 });
  assert.deepEqual(empty, { digest: sha256(''), size: 0 });
  assert.deepEqual(store.writeSync(Buffer.alloc(0)), empty);

  // Writing what is there already is a no-op that returns the same info.
  const mtime = statSync(store.path(a.digest)).mtimeMs;
  assert.deepEqual(store.writeSync(Buffer.from('hello'), { digest: a.digest, size: 5 }), a);
  assert.deepEqual(await store.write(Readable.from([Buffer.from('hello')])), a);
  assert.equal(statSync(store.path(a.digest)).mtimeMs, mtime);
  // With the expected digest present, the source is not read at all, and a Readable is destroyed.
  let pulled = false;
  const src = new Readable({
    read() {
      pulled = true;
      this.push(null);
    },
  });
  assert.deepEqual(await store.write(src, { digest: a.digest }), a);
  assert.ok(!pulled && src.destroyed);
  // So is any other stream kind with destroy() (tar-stream's entries are streamx streams).
  const other = {
    destroyed: false,
    destroy() {
      this.destroyed = true;
    },
    async *[Symbol.asyncIterator]() {
      yield Buffer.from('hello');
    },
  };
  assert.deepEqual(await store.write(other, { digest: a.digest }), a);
  assert.ok(other.destroyed);

  // Non-durable writes land the same way.
  const d = await store.write(Readable.from([Buffer.from('fast')]), {}, { durable: false });
  assert.deepEqual(new ContentStore(store.root, { durable: false }).writeSync('fast'), d);

  // A sha512 expectation is hashed and stored as sha512.
  const s512 = digestOf('five', 'sha512');
  assert.deepEqual(await store.write(Readable.from([Buffer.from('five')]), { digest: s512 }), { digest: s512, size: 4 });
  assert.ok(existsSync(join(store.root, 'blobs', 'sha512', s512.slice(7))));
  store.verify(s512);

  const all = store.list().sort((x, y) => x.digest.localeCompare(y.digest));
  const want = [a, b, c, empty, d, { digest: s512, size: 4 }].sort((x, y) => x.digest.localeCompare(y.digest));
  assert.deepEqual(all, want);
  assert.deepEqual(ingestFiles(store.root), []);

  assert.equal(store.delete(a.digest), true);
  assert.equal(store.delete(a.digest), false);
  assert.equal(store.has(a.digest), false);
});

test('missing blobs are NotFound, bad digests InvalidArgument', async (t) => {
  const store = new ContentStore(tempRoot(t));
  const d = sha256('absent');
  const notFound = (e: unknown) => isBerthError(e, 'NotFound') && e.message === `blob ${d}: not found`;
  assert.throws(() => store.read(d), notFound);
  assert.throws(() => store.readVerified(d), notFound);
  assert.throws(() => store.verify(d), notFound);
  assert.throws(() => store.createReadStream(d), notFound);
  for (const bad of ['sha256:../../etc/passwd', 'sha256:abc', 'md5:' + 'a'.repeat(32), '']) {
    for (const op of [() => store.has(bad), () => store.path(bad), () => store.read(bad), () => store.delete(bad)]) {
      assert.throws(op, (e: unknown) => isBerthError(e, 'InvalidArgument') && e.message.startsWith(`blob digest ${JSON.stringify(bad)}: `));
    }
    assert.throws(() => store.writeSync('x', { digest: bad }), (e: unknown) => isBerthError(e, 'InvalidArgument'));
    await assert.rejects(store.write(Readable.from([Buffer.from('x')]), { digest: bad }), (e: unknown) => isBerthError(e, 'InvalidArgument'));
  }
  await assert.rejects(store.write(Readable.from([Buffer.from('x')]), { size: -1 }), isInvalid(/expected size -1: not a non-negative integer/));
  assertEmpty(store);
});

test('a digest or size that does not match the expected one stores nothing and leaves no temp file', async (t) => {
  const store = new ContentStore(tempRoot(t));
  const good = sha256('hello');
  const other = sha256('other');
  const src = () => Readable.from([Buffer.from('hel'), Buffer.from('lo')]);

  const digestMsg = new RegExp(`^blob ${other}: content does not match the expected digest: got ${good} \\(5 bytes\\)$`);
  assert.throws(() => store.writeSync('hello', { digest: other }), isInvalid(digestMsg));
  await assert.rejects(store.write(src(), { digest: other }), isInvalid(digestMsg));
  assertEmpty(store);

  const sizeMsg = new RegExp(`^blob ${good}: size 5 does not match the expected 12$`);
  assert.throws(() => store.writeSync('hello', { digest: good, size: 12 }), isInvalid(sizeMsg));
  await assert.rejects(store.write(src(), { digest: good, size: 12 }), isInvalid(sizeMsg));
  // Without an expected digest, the message names the digest of what was written.
  await assert.rejects(store.write(src(), { size: 4 }), isInvalid(/^blob write: size exceeds the expected 4: got at least 5 bytes$/));
  assert.throws(() => store.writeSync('hello', { size: 4 }), isInvalid(new RegExp(`^blob ${good}: size 5 does not match the expected 4$`)));
  assertEmpty(store);

  // A source longer than expected is cut off at once: the rest is never read.
  let pulled = 0;
  async function* endless() {
    for (;;) {
      pulled++;
      yield Buffer.alloc(1024);
    }
  }
  await assert.rejects(store.write(endless(), { digest: good, size: 3000 }), isInvalid(new RegExp(`^blob ${good}: size exceeds the expected 3000: got at least 3072 bytes$`)));
  assert.equal(pulled, 3);
  assertEmpty(store);

  // A blob that is present but whose size the caller has wrong.
  store.writeSync('hello');
  await assert.rejects(store.write(src(), { digest: good, size: 6 }), isInvalid(/size 5 does not match the expected 6/));
});

test('a failing source stream rejects with its own error and cleans up', async (t) => {
  const store = new ContentStore(tempRoot(t));
  const boom = new Error('connection reset');
  async function* failing() {
    yield Buffer.alloc(100_000, 1);
    await sleep(5);
    throw boom;
  }
  await assert.rejects(store.write(failing()), (e) => e === boom);
  assertEmpty(store);

  // Fails on the store's second read: by then the store is reading it (a timer could fire before
  // the store listened, on a loaded machine, and make the error an uncaught one).
  let reads = 0;
  const r = new Readable({
    read() {
      if (reads++ === 0) this.push(Buffer.alloc(1000));
      else this.destroy(boom);
    },
  });
  await assert.rejects(store.write(r, { digest: sha256('x') }), (e) => e === boom);
  assertEmpty(store);

  // A source of something other than bytes.
  await assert.rejects(store.write(Readable.from([{ not: 'bytes' }])), isInvalid(/the source yielded object, not bytes/));
  assertEmpty(store);
});

// ---------------------------------------------------------------------------------------------
// Several processes

/** Runs `code` (an ES module body, with ContentStore imported) in a child node process. */
function child(code: string, env: Record<string, string>): ChildProcess & { out: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const src = `import { ContentStore } from ${JSON.stringify(INDEX_URL)};\n${code}`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', src], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (b) => (stdout += b));
  p.stderr!.on('data', (b) => (stderr += b));
  const out = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return Object.assign(p, { out });
}

function waitForLine(p: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (b: Buffer) => {
      buf += b;
      if (buf.split('\n').includes(line)) {
        p.stdout!.off('data', onData);
        resolve();
      }
    };
    p.stdout!.on('data', onData);
    p.on('close', () => reject(new Error(`child exited before printing ${line}`)));
  });
}

/** The body of a child that writes the same 16 MiB blob as the others, once ROOT/go exists. */
const CONCURRENT_WRITER = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
const root = process.env.ROOT;
const size = Number(process.env.SIZE);
const data = Buffer.allocUnsafe(size);
let x = 7;
for (let i = 0; i < size; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; data[i] = x >>> 16; }
async function* chunks() {
  for (let off = 0; off < size; off += 256 * 1024) {
    yield data.subarray(off, Math.min(size, off + 256 * 1024));
    await new Promise((r) => setImmediate(r));
  }
}
const store = new ContentStore(root);
console.log('ready');
const until = Date.now() + 120_000; // a deadline for a hang (no go from the parent), not a speed limit
while (!existsSync(join(root, 'go'))) {
  if (Date.now() > until) throw new Error('no go file within 120 s');
  await new Promise((r) => setTimeout(r, 2));
}
const expect = process.env.EXPECT === '1' ? { size } : {};
const info = await store.write(chunks(), expect);
console.log(JSON.stringify(info));
`;

test('several processes writing the same blob at once all succeed, with one whole blob as the result', async (t) => {
  const root = tempRoot(t);
  const store = new ContentStore(root);
  const SIZE = 16 * 1024 * 1024;
  const want = { digest: sha256(pattern(SIZE, 7)), size: SIZE };
  const kids = [0, 1, 2].map((i) => child(CONCURRENT_WRITER, { ROOT: root, SIZE: String(SIZE), EXPECT: i === 0 ? '1' : '0' }));
  t.after(() => kids.forEach((k) => k.exitCode === null && k.kill('SIGKILL')));
  await Promise.all(kids.map((k) => waitForLine(k, 'ready')));
  writeFileSync(join(root, 'go'), '');

  // Meanwhile, whenever the blob is visible it is whole.
  let done = false;
  let seen = 0;
  const all = Promise.all(kids.map((k) => k.out)).finally(() => (done = true));
  while (!done) {
    if (store.has(want.digest)) {
      store.verify(want.digest);
      seen++;
    }
    await sleep(1);
  }
  for (const r of await all) {
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), want);
  }
  assert.deepEqual(store.list(), [want]);
  store.verify(want.digest);
  assert.deepEqual(ingestFiles(root), []);
  t.diagnostic(`the blob was seen whole ${seen} times while the writers ran`);
});

test('kill -9 in the middle of a write leaves no blob, only an ingest file that gc removes once stale', async (t) => {
  const root = tempRoot(t);
  const store = new ContentStore(root);
  const k = child(
    `
const store = new ContentStore(process.env.ROOT);
async function* slow() {
  yield Buffer.alloc(65536, 1);
  // The store asks for more only once the first chunk is written.
  console.log('written');
  await new Promise(() => setInterval(() => {}, 1000));
}
await store.write(slow(), { size: 1 << 20 });
console.log('finished?!');
`,
    { ROOT: root },
  );
  t.after(() => k.exitCode === null && k.kill('SIGKILL'));
  await waitForLine(k, 'written');
  const before = ingestFiles(root);
  assert.equal(before.length, 1);
  assert.equal(statSync(join(root, 'ingest', before[0]!)).size, 65536);
  assert.deepEqual(store.list(), []);

  k.kill('SIGKILL');
  const r = await k.out;
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(!r.stdout.includes('finished'));
  assert.deepEqual(store.list(), [], 'no blob under a digest name');
  assert.ok(!store.has(sha256(Buffer.alloc(65536, 1))));
  assert.deepEqual(ingestFiles(root), before);

  // A fresh ingest file may belong to a live writer: gc leaves it.
  assert.deepEqual(store.gc(new Set()), { removed: 0, bytes: 0, staleIngest: 0 });
  assert.deepEqual(ingestFiles(root), before);
  // Once it is over an hour old, gc removes it.
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(join(root, 'ingest', before[0]!), old, old);
  assert.deepEqual(store.gc(new Set()), { removed: 1, bytes: 65536, staleIngest: 1 });
  assertEmpty(store);
});

test('kill -9 at random instants of many writes never leaves a partial blob', async (t) => {
  const root = tempRoot(t);
  const store = new ContentStore(root);
  const code = `
const store = new ContentStore(process.env.ROOT, { durable: process.env.DURABLE === '1' });
console.log('started');
for (let i = 0; ; i++) {
  const size = 1 + Math.floor(Math.random() * 2 * 1024 * 1024);
  const data = Buffer.alloc(size, i & 255);
  data.writeUInt32LE(i ^ process.pid, 0);
  if (i % 2) store.writeSync(data);
  else await store.write((async function* () { for (let o = 0; o < size; o += 100000) yield data.subarray(o, o + 100000); })());
  if (i === 0) console.log('first blob written');
}
`;
  let killed = 0;
  for (let round = 0; round < 6; round++) {
    const k = child(code, { ROOT: root, DURABLE: round % 2 ? '1' : '0' });
    t.after(() => k.exitCode === null && k.kill('SIGKILL'));
    // The first writer gets one blob written for sure (waited for, not timed), so that the
    // check below has something to verify however loaded the machine is.
    await waitForLine(k, round === 0 ? 'first blob written' : 'started');
    await sleep(30 + Math.random() * 150);
    k.kill('SIGKILL');
    const r = await k.out;
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    killed++;
  }
  const blobs = store.list();
  assert.ok(blobs.length > 0, 'the writers got some blobs written');
  for (const b of blobs) store.verify(b.digest);
  const r = store.gc(new Set(blobs.map((b) => b.digest)), { ingestMaxAgeMs: 0 });
  assert.equal(r.removed, r.staleIngest, 'gc with everything kept removes only temporary files');
  assert.deepEqual(ingestFiles(root), []);
  assert.equal(store.list().length, blobs.length);
  t.diagnostic(`${killed} writers killed; ${blobs.length} blobs, all whole; ${r.staleIngest} temporary files left behind`);
});

// ---------------------------------------------------------------------------------------------

test('corruption on disk is found by readVerified and verify, naming the digest', (t) => {
  const store = new ContentStore(tempRoot(t));
  const data = pattern(3 * 1024 * 1024);
  const { digest } = store.writeSync(data);
  const p = store.path(digest);
  chmodSync(p, 0o644);
  const bytes = readFileSync(p);
  bytes[1_500_000] = bytes[1_500_000]! ^ 0x01;
  writeFileSync(p, bytes);

  const corrupt = (content: Buffer) => (e: unknown) => {
    assert.ok(isBerthError(e, 'Internal'), String(e));
    assert.ok(e.message.startsWith(`blob ${digest}: content does not match its digest (corrupt: `), e.message);
    assert.ok(e.message.includes(`hashes to ${sha256(content)}, ${content.length} bytes)`), e.message);
    return true;
  };
  assert.throws(() => store.readVerified(digest), corrupt(bytes));
  assert.throws(() => store.verify(digest), corrupt(bytes));
  assert.equal(store.read(digest).length, data.length, 'read() does not re-hash');

  // Truncation too.
  writeFileSync(p, data.subarray(0, 10));
  assert.throws(() => store.verify(digest), corrupt(data.subarray(0, 10)));
  assert.throws(() => store.readVerified(digest), corrupt(data.subarray(0, 10)));
});

test('gc keeps what it is told to, removes the rest and stale ingest files', (t) => {
  const root = tempRoot(t);
  const store = new ContentStore(root);
  const a = store.writeSync('aaaa');
  const b = store.writeSync('bbbbbb');
  const c = store.writeSync('cc');
  const s512 = store.writeSync('dddd', { digest: digestOf('dddd', 'sha512') });
  writeFileSync(join(root, 'ingest', 'stale'), Buffer.alloc(10));
  writeFileSync(join(root, 'ingest', 'fresh'), Buffer.alloc(20));
  const old = new Date(Date.now() - 61 * 60 * 1000);
  utimesSync(join(root, 'ingest', 'stale'), old, old);
  // Stray files in the blob directory that are not blobs are left alone.
  writeFileSync(join(root, 'blobs', 'sha256', 'README'), 'x');

  const r = store.gc(new Set([a.digest, s512.digest, sha256('never stored')]));
  assert.deepEqual(r, { removed: 3, bytes: b.size + c.size + 10, staleIngest: 1 });
  assert.deepEqual(store.list().map((x) => x.digest).sort(), [a.digest, s512.digest].sort());
  assert.deepEqual(ingestFiles(root), ['fresh']);
  assert.ok(existsSync(join(root, 'blobs', 'sha256', 'README')));
  store.verify(a.digest);

  assert.deepEqual(store.gc(new Set()), { removed: 2, bytes: a.size + s512.size, staleIngest: 0 });
  assert.deepEqual(store.list(), []);
  // A store whose root does not exist yet is empty, not an error.
  const none = new ContentStore(join(root, 'nothing-here'));
  assert.deepEqual(none.list(), []);
  assert.deepEqual(none.gc(new Set()), { removed: 0, bytes: 0, staleIngest: 0 });
});
