/**
 * A content-addressed blob store: ingest → verify → atomic commit.
 *
 * Layout under `root`:
 *   blobs/sha256/<hex>   committed blobs, read-only (0444), named by the digest of their content
 *   blobs/sha512/<hex>   (only when a caller expects a sha512 digest)
 *   ingest/<name>        temporary files of writes in progress
 *
 * A write hashes while it writes (the data is read once), checks digest and size against what
 * the caller expected, and only then renames the temporary file to its digest name. rename(2) is
 * atomic, so a blob is either absent or whole: a process killed at any instant leaves at most a
 * file under ingest/, which gc() removes once it is an hour old. Two writers of the same blob
 * each write their own temporary file and both rename; the second replaces identical content,
 * and a reader holding the first open keeps reading whole content.
 *
 * Durability (`durable`, default true): the temporary file is fsync'd before the rename and the
 * blob directory after it, so a committed blob survives a power loss, not only a process crash.
 * Measured here (ext4 on a virtio disk, two runs each): 1000 writeSync()s of 1 KiB take 90 ms
 * without fsync and 450–510 ms with it (≈0.4 ms per blob for the two fsyncs); 200 write()s of
 * 1 KiB 110 vs 155–185 ms; one 64 MiB write() 145–160 vs 150–195 ms (at most +25%). On tmpfs
 * fsync costs nothing. So durability is cheap for layers and costs most for many small blobs;
 * callers that can redo the work after a power loss (a build cache, tests) pass durable: false.
 *
 * gc() does not know about writes in flight whose blobs nothing references yet: the caller must
 * exclude those (hold the lock that writers of references hold, as containerd does with leases).
 */
import { nodeFsPromises, randomBytes } from '../lib/builtins.js';
import { createReadStream, closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode, internal, invalidArgument, notFound, reason } from '../lib/errors.js';
import { Digester, digestAlgorithm, digestOf, parseDigest, DIGEST_HEX_LENGTH, type Digest, type DigestAlgorithm } from '../lib/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What the caller knows the blob must be (from a descriptor); checked before it is committed. */
export interface Expect {
  digest?: Digest;
  size?: number;
}

export interface WriteOptions {
  /** fsync the data and the rename (default: the store's, which defaults to true). */
  durable?: boolean;
}

export interface ContentStoreOptions {
  /** The default for every write's `durable` (true). */
  durable?: boolean;
}

export interface GcResult {
  /** Blobs and stale ingest files removed. */
  removed: number;
  /** Their bytes. */
  bytes: number;
  /** Of `removed`, how many were stale ingest files. */
  staleIngest: number;
}

export interface GcOptions {
  /** Ingest files untouched for longer than this are removed (default one hour). */
  ingestMaxAgeMs?: number;
}

const ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512'];
const HOUR_MS = 60 * 60 * 1000;
const READ_CHUNK = 1 << 20;

/** Wraps a file-system failure as Internal, naming what was being done; BerthErrors pass through. */
function fsError(what: string, e: unknown): Error {
  if (e instanceof BerthError) return e;
  return internal(`${what}: ${reason(e)}`, { cause: e });
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw invalidArgument(`blob write: the source yielded ${chunk === null ? 'null' : typeof chunk}, not bytes`);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class ContentStore {
  readonly root: string;
  private readonly durable: boolean;
  private readonly madeDirs = new Set<string>();

  constructor(root: string, opts: ContentStoreOptions = {}) {
    this.root = root;
    this.durable = opts.durable ?? true;
  }

  /** Where the blob with digest `d` lives (whether or not it exists). Throws InvalidArgument for a bad digest. */
  path(d: Digest): string {
    parseDigest(d, 'blob digest');
    const colon = d.indexOf(':');
    return join(this.root, 'blobs', d.slice(0, colon), d.slice(colon + 1));
  }

  has(d: Digest): boolean {
    return this.info(d) !== undefined;
  }

  info(d: Digest): BlobInfo | undefined {
    const p = this.path(d);
    try {
      const st = statSync(p);
      return st.isFile() ? { digest: d, size: st.size } : undefined;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw fsError(`blob ${d}: stat`, e);
    }
  }

  /** The blob's bytes; throws NotFound `blob sha256:…: not found`. Does not re-hash (see readVerified). */
  read(d: Digest): Buffer {
    const p = this.path(d);
    try {
      return readFileSync(p);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw notFound(`blob ${d}: not found`);
      throw fsError(`blob ${d}: read`, e);
    }
  }

  /** The blob's bytes, re-hashed; throws Internal `blob sha256:…: content does not match its digest (corrupt: …)`. */
  readVerified(d: Digest): Buffer {
    const buf = this.read(d);
    const actual = digestOf(buf, digestAlgorithm(d));
    if (actual !== d) throw this.corrupt(d, actual, buf.length);
    return buf;
  }

  /** Opens a blob for reading; NotFound when it is missing. */
  private openBlob(d: Digest): number {
    try {
      return openSync(this.path(d), 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw notFound(`blob ${d}: not found`);
      throw fsError(`blob ${d}: open`, e);
    }
  }

  /** Re-hashes the blob on disk, streaming it; throws like readVerified, or NotFound. */
  verify(d: Digest): void {
    const fd = this.openBlob(d);
    const digester = new Digester(digestAlgorithm(d));
    try {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        digester.update(buf.subarray(0, n));
      }
    } catch (e) {
      throw fsError(`blob ${d}: read`, e);
    } finally {
      closeSync(fd);
    }
    const actual = digester.digest();
    if (actual !== d) throw this.corrupt(d, actual, digester.size);
  }

  /**
   * A stream of the blob's bytes (not re-hashed); throws NotFound at once when it is missing. The
   * file is opened before returning, so a later delete does not cut the stream short.
   */
  createReadStream(d: Digest, range: { start?: number; end?: number } = {}): Readable {
    const fd = this.openBlob(d);
    return createReadStream(this.path(d), { fd, autoClose: true, ...range });
  }

  /**
   * Stores bytes held in memory (manifests, configs). Hashes them first, so a mismatch with
   * `expect` throws InvalidArgument before anything touches the disk. Returns at once when the
   * blob is already there.
   */
  writeSync(data: Buffer | Uint8Array | string, expect: Expect = {}, opts: WriteOptions = {}): BlobInfo {
    const buf = toBuffer(data);
    const algorithm = this.checkExpect(expect);
    const digest = digestOf(buf, algorithm);
    this.checkResult(digest, buf.length, expect);
    if (this.has(digest)) return { digest, size: buf.length };

    const final = this.path(digest);
    const tmp = this.tempPath();
    const durable = opts.durable ?? this.durable;
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
        fchmodSync(fd, 0o444);
        if (durable) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.commitSync(tmp, final, durable);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fsError(`blob ${digest}: write`, e);
    }
    return { digest, size: buf.length };
  }

  /**
   * Stores a stream, hashing while it writes. `src` yields Buffers, Uint8Arrays or strings (any
   * other chunk is an InvalidArgument). The store owns `src`: it is read to the end, or
   * destroyed on failure or when the expected blob is already present (then it is not read at
   * all). The blob becomes visible only once its digest and size match `expect`; on a mismatch
   * (InvalidArgument naming both), a source error (rethrown as it is) or a write error
   * (Internal), the temporary file is removed and nothing is stored.
   */
  async write(src: Readable | AsyncIterable<unknown>, expect: Expect = {}, opts: WriteOptions = {}): Promise<BlobInfo> {
    const abandon = () => {
      // Node's Readable and other stream kinds (streamx, as tar-stream yields) alike.
      const s = src as { destroy?: unknown; destroyed?: unknown };
      if (typeof s.destroy === 'function' && s.destroyed !== true) (s.destroy as () => void).call(src);
    };
    let algorithm: DigestAlgorithm;
    try {
      algorithm = this.checkExpect(expect);
      if (expect.digest !== undefined) {
        const have = this.info(expect.digest);
        if (have !== undefined) {
          if (expect.size !== undefined && expect.size !== have.size) this.sizeMismatch(expect.digest, have.size, expect.size);
          abandon();
          return have;
        }
      }
    } catch (e) {
      abandon();
      throw e;
    }

    const label = expect.digest ?? 'write';
    const durable = opts.durable ?? this.durable;
    let tmp: string | undefined;
    let fh: FileHandle | undefined;
    try {
      tmp = this.tempPath();
      try {
        fh = await nodeFsPromises().open(tmp, 'wx', 0o600);
      } catch (e) {
        throw fsError(`blob ${label}: create ${tmp}`, e);
      }
      const digester = new Digester(algorithm);
      for await (const chunk of src) {
        const buf = toBuffer(chunk);
        digester.update(buf);
        if (expect.size !== undefined && digester.size > expect.size) {
          throw invalidArgument(`blob ${label}: size exceeds the expected ${expect.size}: got at least ${digester.size} bytes`);
        }
        try {
          let off = 0;
          while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        } catch (e) {
          throw fsError(`blob ${label}: write ${tmp}`, e);
        }
      }
      const digest = digester.digest();
      this.checkResult(digest, digester.size, expect);
      const have = this.info(digest);
      if (have !== undefined) {
        // Written meanwhile, or not known in advance: keep the blob there, drop the copy.
        await fh.close();
        fh = undefined;
        await nodeFsPromises().rm(tmp, { force: true });
        return have;
      }
      try {
        await fh.chmod(0o444);
        if (durable) await fh.sync();
        const h = fh;
        fh = undefined;
        await h.close();
        const final = this.path(digest);
        this.ensureDir(dirname(final));
        await nodeFsPromises().rename(tmp, final);
        if (durable) fsyncDir(dirname(final));
      } catch (e) {
        throw fsError(`blob ${digest}: commit`, e);
      }
      return { digest, size: digester.size };
    } catch (e) {
      await fh?.close().catch(() => undefined);
      if (tmp !== undefined) await nodeFsPromises().rm(tmp, { force: true }).catch(() => undefined);
      abandon();
      throw e;
    }
  }

  /** Removes a blob; false when it was not there. */
  delete(d: Digest): boolean {
    const p = this.path(d);
    try {
      unlinkSync(p);
      return true;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw fsError(`blob ${d}: delete`, e);
    }
  }

  /** Every committed blob (in no particular order). */
  list(): BlobInfo[] {
    const out: BlobInfo[] = [];
    for (const algorithm of ALGORITHMS) {
      const dir = join(this.root, 'blobs', algorithm);
      const hexRe = new RegExp(`^[a-f0-9]{${DIGEST_HEX_LENGTH[algorithm]}}$`);
      for (const name of this.readdir(dir)) {
        if (!hexRe.test(name)) continue;
        try {
          const st = statSync(join(dir, name));
          if (st.isFile()) out.push({ digest: `${algorithm}:${name}`, size: st.size });
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw fsError(`blob ${algorithm}:${name}: stat`, e);
        }
      }
    }
    return out;
  }

  /**
   * Removes every blob not in `keep`, and ingest files untouched for an hour (those of killed
   * writers; a live writer touches its file as it writes). See the file comment on writes in flight.
   */
  gc(keep: ReadonlySet<Digest>, opts: GcOptions = {}): GcResult {
    const result: GcResult = { removed: 0, bytes: 0, staleIngest: 0 };
    for (const b of this.list()) {
      if (keep.has(b.digest)) continue;
      if (this.delete(b.digest)) {
        result.removed++;
        result.bytes += b.size;
      }
    }
    const ingest = join(this.root, 'ingest');
    const cutoff = Date.now() - (opts.ingestMaxAgeMs ?? HOUR_MS);
    for (const name of this.readdir(ingest)) {
      const p = join(ingest, name);
      try {
        const st = statSync(p);
        if (!st.isFile() || st.mtimeMs > cutoff) continue;
        unlinkSync(p);
        result.removed++;
        result.staleIngest++;
        result.bytes += st.size;
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw fsError(`content gc: ${p}`, e);
      }
    }
    return result;
  }

  // -------------------------------------------------------------------------------------------

  private readdir(dir: string): string[] {
    try {
      return readdirSync(dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw fsError(`content: list ${dir}`, e);
    }
  }

  private ensureDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw fsError(`content: create ${dir}`, e);
    }
    this.madeDirs.add(dir);
  }

  /** A fresh temporary file name under ingest/ (the directory is created). */
  private tempPath(): string {
    const dir = join(this.root, 'ingest');
    this.ensureDir(dir);
    return join(dir, `${Date.now()}-${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** Renames a finished temporary file to its digest name, and makes the rename durable if asked. */
  private commitSync(tmp: string, final: string, durable: boolean): void {
    const dir = dirname(final);
    this.ensureDir(dir);
    renameSync(tmp, final);
    if (durable) fsyncDir(dir);
  }

  /** Validates `expect`; returns the algorithm to hash with. */
  private checkExpect(expect: Expect): DigestAlgorithm {
    if (expect.size !== undefined && (!Number.isSafeInteger(expect.size) || expect.size < 0)) {
      throw invalidArgument(`blob ${expect.digest ?? 'write'}: expected size ${String(expect.size)}: not a non-negative integer`);
    }
    if (expect.digest === undefined) return 'sha256';
    parseDigest(expect.digest, 'expected blob digest');
    return digestAlgorithm(expect.digest);
  }

  /** Throws InvalidArgument when what was written does not match `expect`. */
  private checkResult(digest: Digest, size: number, expect: Expect): void {
    if (expect.size !== undefined && size !== expect.size) this.sizeMismatch(expect.digest ?? digest, size, expect.size);
    if (expect.digest !== undefined && digest !== expect.digest) {
      throw invalidArgument(`blob ${expect.digest}: content does not match the expected digest: got ${digest} (${size} bytes)`);
    }
  }

  private sizeMismatch(label: string, size: number, want: number): never {
    throw invalidArgument(`blob ${label}: size ${size} does not match the expected ${want}`);
  }

  private corrupt(d: Digest, actual: Digest, size: number): Error {
    return internal(`blob ${d}: content does not match its digest (corrupt: ${this.path(d)} hashes to ${actual}, ${size} bytes)`);
  }
}
