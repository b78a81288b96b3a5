/**
 * The copy pipeline's contracts. A transport is a source side, a destination side, or both:
 *
 * - An `ImageSource` hands its blobs to a `SourceWriter` in its own order (a tar stream can only
 *   be read front to back; a directory, the store or a registry read manifest and config first),
 *   and says which images they make as soon as it knows (`images`), before their layers where it
 *   can: then the destination unpacks each layer as it arrives and writes an index up front.
 * - An `ImageDestination` takes each blob as a stream (`putBlob`), which the pipeline has wrapped
 *   to verify its digest and size while it is read: a mismatch is an error before the stream
 *   ends, so a destination that writes to a temporary name and renames at the end never makes a
 *   wrong blob visible. Once every blob is in, `commit` records the images and their names;
 *   `abort` removes what this copy added.
 *
 * `copyImage` (copy.ts) drives one source into one destination and knows no transport.
 */
import type { Readable } from 'node:stream';
import type { ImageConfig } from '../../oci/image-spec.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

/** What a blob is, as far as it is known before it is read. */
export type BlobRole = 'manifest' | 'config' | 'layer' | 'other';

export interface BlobHint {
  /** The digest it must have (verified while it is read); absent when the source cannot know. */
  digest?: string;
  size?: number;
  mediaType?: string;
  role?: BlobRole;
  /**
   * For a layer whose image is known before the layer is read: the diff IDs of that image's
   * layers up to and including this one (bottom first). A destination that unpacks layers does
   * so as the blob streams by.
   */
  diffIds?: readonly string[];
  /** The source's own name for it (an archive member), for messages. */
  name?: string;
}

/** A blob's bytes as a source offers them. */
export type BlobData =
  | Readable
  | Buffer
  | {
      /** Opened only when the destination lacks the blob (a registry's opens a request). */
      open: () => Readable | Promise<Readable>;
      /** A local file holding exactly these bytes, already verified (a content store's blob), that a destination may link. */
      file?: string;
    };

/** One image as its source describes it. */
export interface SourceImage {
  /** Full references to name it with (`docker.io/library/busybox:latest`); none for an untagged image. */
  names: string[];
  /** Its manifest blob; absent (a docker-archive without OCI files) when the pipeline is to write an OCI manifest. */
  manifest?: { digest: string; mediaType: string; size: number };
  config: { digest: string; size: number; bytes: Buffer; mediaType?: string };
  /** Its layers, bottom first; mediaType absent when the source does not say (docker-archive). */
  layers: { digest: string; size: number; mediaType?: string }[];
  /** name@digest references it is known by (a registry's), recorded as its RepoDigests. */
  repoDigests?: string[];
}

export interface SourceWriter {
  /** Hands over one blob; resolves with its digest and size once the destination holds it whole (verified). */
  blob(data: BlobData, hint?: BlobHint): Promise<BlobInfo>;
  /** Says which images the blobs make; once, before their layers where the source can, else at the end. */
  images(list: SourceImage[]): Promise<void>;
}

export interface ImageSource {
  /** What is being read, for messages (`load stdin`); absent where errors need no prefix. */
  readonly what?: string;
  /** Reads everything the copy needs into `w`; rejects on a read or format error. */
  read(w: SourceWriter): Promise<void>;
}

/** An image with every blob known: what a destination records. */
export interface ResolvedImage {
  names: string[];
  manifest: { digest: string; mediaType: string; size: number };
  /** True when the pipeline wrote the manifest (the source had none). */
  manifestWritten: boolean;
  config: { digest: string; size: number; mediaType: string; bytes: Buffer; parsed: ImageConfig };
  layers: { digest: string; size: number; mediaType: string | undefined; diffId: string }[];
  repoDigests?: string[];
}

/** A blob as a destination receives it. */
export interface IncomingBlob {
  readonly hint: BlobHint;
  /** Its bytes, when they are small and held in memory (already verified). */
  readonly bytes?: Buffer;
  /** A local, already verified file holding them (see BlobData). */
  readonly file?: string;
  /** Its bytes, verified as they are read (an error instead of the end on a mismatch). Call once. */
  stream(): Readable;
}

export interface CopiedImage {
  /** The image id: the digest of its config. */
  id: string;
  manifestDigest: string;
  names: string[];
}

export interface ImageDestination {
  /** Whether it holds the blob already (the copy then skips it). */
  has(digest: string): boolean | Promise<boolean>;
  /** Stores one blob; rejects, keeping nothing of it, when its stream fails. */
  putBlob(blob: IncomingBlob): Promise<BlobInfo>;
  /** The images as soon as the source names them (a destination that writes an index up front does it now). */
  announce?(images: readonly ResolvedImage[]): Promise<void>;
  /** Every blob is in: records the images and their names. `what` is the source's, for messages. */
  commit(images: readonly ResolvedImage[], what: string | undefined): Promise<CopiedImage[]>;
  /** The copy failed: removes what it added. */
  abort(cause: unknown): Promise<void>;
}

/** Progress, reported as it happens (the CLI may render it; nothing below it prints). */
export type CopyEvent =
  | { kind: 'blob-start'; digest?: string; role: BlobRole; size?: number }
  | { kind: 'blob-progress'; digest?: string; role: BlobRole; bytes: number; size?: number }
  | { kind: 'blob-done'; digest: string; role: BlobRole; size: number }
  | { kind: 'blob-skipped'; digest: string; role: BlobRole; reason: 'exists' }
  | { kind: 'image'; id: string; names: string[] };

export interface CopyOptions {
  onEvent?: (e: CopyEvent) => void;
}
