/**
 * Content digests as the OCI image spec writes them: `<algorithm>:<lowercase hex>`.
 *
 * berth computes sha256 digests; it also accepts sha512 digests where it parses them (a
 * descriptor may name one). Everything else is rejected with the reason.
 */
import { nodeCrypto } from './builtins.js';
import type { Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { internal, invalidArgument } from './errors.js';

/** "sha256:<64 lowercase hex>" (or "sha512:<128 lowercase hex>"). Validate with parseDigest. */
export type Digest = string;

export type DigestAlgorithm = 'sha256' | 'sha512';

/** The hex length of each supported algorithm's encoded part. */
export const DIGEST_HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** The general shape of a digest in the OCI spec, used only to give a better reason. */
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The reason `s` is not a supported digest, or undefined when it is one. */
function digestProblem(s: string): string | undefined {
  if (DIGEST_RE.test(s)) return undefined;
  if (!ANY_DIGEST_RE.test(s)) return 'not a digest (expected "sha256:" and 64 lowercase hex characters)';
  const colon = s.indexOf(':');
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return `unsupported digest algorithm "${algorithm}"`;
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (encoded.length !== want) return `a ${algorithm} digest has ${want} hex characters, not ${encoded.length}`;
  return `a ${algorithm} digest is written in lowercase hex`;
}

/**
 * Checks that `s` is a supported digest and returns it. Throws InvalidArgument naming `what`:
 * `layer digest "sha256:ab": a sha256 digest has 64 hex characters, not 2`.
 */
export function parseDigest(s: unknown, what = 'digest'): Digest {
  if (typeof s !== 'string') throw invalidArgument(`${what}: not a digest: a ${s === null ? 'null' : typeof s}, not a string`);
  const problem = digestProblem(s);
  if (problem !== undefined) throw invalidArgument(`${what} ${JSON.stringify(s)}: ${problem}`);
  return s;
}

/** Whether `s` is a supported digest (sha256:<64 hex> or sha512:<128 hex>, lowercase). */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** The algorithm of a digest ("sha256"); throws InvalidArgument for a malformed one. */
export function digestAlgorithm(d: Digest): DigestAlgorithm {
  parseDigest(d);
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

/** The hex part of a digest (what follows the colon); throws InvalidArgument for a malformed one. */
export function digestHex(d: Digest): string {
  parseDigest(d);
  return d.slice(d.indexOf(':') + 1);
}

/** The sha256 digest of some bytes (a string is hashed as UTF-8). */
export function sha256(data: Buffer | Uint8Array | string): Digest {
  return `sha256:${nodeCrypto().createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of some bytes with the given algorithm. */
export function digestOf(data: Buffer | Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${nodeCrypto().createHash(algorithm).update(data).digest('hex')}`;
}

/**
 * The short form docker prints for an id: the first 12 hex characters. Takes a digest or a bare
 * hex id; anything shorter is returned whole.
 */
export function shortId(d: Digest | string): string {
  const colon = d.indexOf(':');
  return (colon >= 0 ? d.slice(colon + 1) : d).slice(0, 12);
}

/** An incremental hasher that also counts bytes: update() as data arrives, digest() at the end. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  private bytes = 0;
  private result: Digest | undefined;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    this.algorithm = algorithm;
    this.hash = nodeCrypto().createHash(algorithm);
  }

  update(chunk: Buffer | Uint8Array): this {
    if (this.result !== undefined) throw internal('digest: update after the digest was taken');
    this.hash.update(chunk);
    this.bytes += chunk.length;
    return this;
  }

  /** Bytes hashed so far. */
  get size(): number {
    return this.bytes;
  }

  /** The digest of everything hashed; the hasher is finished after the first call. */
  digest(): Digest {
    if (this.result === undefined) this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    return this.result;
  }
}

/**
 * A pass-through stream that hashes and counts what flows through it. `size` grows as data
 * passes; `digest()` is available once the stream has ended (after 'finish'/'end') and throws
 * Internal before that.
 *
 *   const hashing = new DigestingPassThrough();
 *   await pipeline(source, hashing, sink);
 *   hashing.digest(); hashing.size;
 */
export class DigestingPassThrough extends Transform {
  private readonly digester: Digester;
  private ended = false;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    super();
    this.digester = new Digester(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.digester.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.ended = true;
    this.digester.digest();
    cb();
  }

  /** Bytes that have passed through so far. */
  get size(): number {
    return this.digester.size;
  }

  /** The digest of everything that passed through; only after the stream has ended. */
  digest(): Digest {
    if (!this.ended) throw internal('digest: the stream has not ended yet');
    return this.digester.digest();
  }
}
