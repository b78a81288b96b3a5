/** The images an OCI layout's index.json names, checked against the blobs the layout holds. */
import { invalidArgument } from '../../lib/errors.js';
import { isIndexType, isManifestType, parseIndex, parseManifest } from '../../oci/image-spec.js';
import { parseReference } from '../reference.js';
import type { SourceImage } from './types.js';

export interface LayoutBlobs {
  /** Whether the layout holds the blob, and its size. */
  size(digest: string): number | undefined;
  /** A manifest's or config's bytes (verified against the digest), or undefined when not held in memory. */
  bytes(digest: string): Buffer | undefined;
}

/** The reference an index entry names: containerd's full name, else a ref.name that is one. */
export function indexEntryName(annotations: Record<string, string> | undefined): string | undefined {
  const name = annotations?.['io.containerd.image.name'];
  const tag = annotations?.['org.opencontainers.image.ref.name'];
  const refStr = name ?? (tag && !tag.includes('/') && !tag.includes(':') ? undefined : tag);
  return refStr ? parseReference(refStr).toString() : undefined;
}

/**
 * One image per index entry (an image named twice is listed twice). `where` prefixes messages
 * (`load x.tar`); `container` names what holds the blobs (`the archive`, `the layout`).
 */
export function imagesFromIndex(indexBytes: Buffer, blobs: LayoutBlobs, where: string, container: string): SourceImage[] {
  const index = parseIndex(indexBytes, `${where}: index.json`);
  const out: SourceImage[] = [];
  const need = (digest: string, what: string) => {
    const size = blobs.size(digest);
    if (size === undefined) throw invalidArgument(`${what}: blob ${digest} is not in ${container}`);
    return size;
  };
  for (const [i, desc] of index.manifests.entries()) {
    const at = `${where}: index.json: manifests[${i}]`;
    const manSize = need(desc.digest, at);
    if (isIndexType(desc.mediaType)) throw invalidArgument(`${at}: nested indexes are not supported yet`);
    if (!isManifestType(desc.mediaType)) throw invalidArgument(`${at}: unknown media type ${JSON.stringify(desc.mediaType)}`);
    const manBytes = blobs.bytes(desc.digest);
    if (!manBytes) throw invalidArgument(`${at}: manifest ${desc.digest} is too large to read`);
    const man = parseManifest(manBytes, `manifest ${desc.digest}`);
    const layers = man.layers.map((l, j) => ({ digest: l.digest, size: need(l.digest, `${where}: manifest ${desc.digest}: layers[${j}]`), mediaType: l.mediaType }));
    const cfgAt = `${where}: manifest ${desc.digest}: config ${man.config.digest}`;
    const cfgSize = blobs.size(man.config.digest);
    if (cfgSize === undefined) throw invalidArgument(`${cfgAt} is not in ${container}`);
    const cfgBytes = blobs.bytes(man.config.digest);
    if (!cfgBytes) throw invalidArgument(`${cfgAt} is too large to read`);
    const name = indexEntryName(desc.annotations);
    out.push({
      names: name ? [name] : [],
      manifest: { digest: desc.digest, mediaType: desc.mediaType, size: manSize },
      config: { digest: man.config.digest, size: cfgSize, bytes: cfgBytes, mediaType: man.config.mediaType },
      layers,
    });
  }
  return out;
}
