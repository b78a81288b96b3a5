/**
 * An OCI image layout directory as a source (what `save --format oci-dir` and `skopeo copy
 * oci:` write): index.json names the images; manifests and configs are read (and verified) first,
 * then the images are named, then the layers are streamed, verified as they are read.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { digestAlgorithm, digestOf, parseDigest } from '../../lib/digest.js';
import { errnoCode, invalidArgument } from '../../lib/errors.js';
import { blobPath } from './layout-dest.js';
import { imagesFromIndex } from './oci-index.js';
import type { ImageSource } from './types.js';

/** Manifests and configs larger than this are refused (they are JSON documents). */
const MAX_DOC = 16 << 20;

export function layoutDirSource(dir: string, opts: { what?: string } = {}): ImageSource {
  const what = opts.what ?? `oci layout ${JSON.stringify(dir)}`;
  const pathOf = (d: string) => join(dir, blobPath(parseDigest(d, `${what}: blob digest`)));
  const size = (d: string): number | undefined => {
    try {
      const st = statSync(pathOf(d));
      return st.isFile() ? st.size : undefined;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  };
  const bytes = (d: string): Buffer | undefined => {
    const n = size(d);
    if (n === undefined || n > MAX_DOC) return undefined;
    const b = readFileSync(pathOf(d));
    const got = digestOf(b, digestAlgorithm(d));
    if (got !== d) throw invalidArgument(`${what}: blob ${d}: content does not match its digest: got ${got} (${b.length} bytes)`);
    return b;
  };
  return {
    what,
    async read(w) {
      let index: Buffer;
      try {
        index = readFileSync(join(dir, 'index.json'));
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') throw invalidArgument(`${what}: index.json is missing: not an OCI image layout`);
        throw e;
      }
      const images = imagesFromIndex(index, { size, bytes }, what, 'the layout');
      for (const img of images) {
        await w.blob(img.config.bytes, { digest: img.config.digest, size: img.config.size, role: 'config', mediaType: img.config.mediaType });
        const m = img.manifest!;
        await w.blob(bytes(m.digest)!, { digest: m.digest, size: m.size, role: 'manifest', mediaType: m.mediaType });
      }
      await w.images(images);
      for (const img of images) {
        for (const l of img.layers) {
          await w.blob({ open: () => createReadStream(pathOf(l.digest)) }, { digest: l.digest, size: l.size, role: 'layer', mediaType: l.mediaType });
        }
      }
    },
  };
}
