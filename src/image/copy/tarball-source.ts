/**
 * A root file system tar as a source (`import`): the tar is the image's one layer, stored as it
 * comes (uncompressed: its digest is its diff ID); the config is made from that diff ID once
 * the tar is read; the pipeline writes the OCI manifest.
 */
import { Readable } from 'node:stream';
import { MediaType, type ImageConfig } from '../../oci/image-spec.js';
import type { ImageSource } from './types.js';

export interface TarballSourceOptions {
  /** Full references to name the image by. */
  names: string[];
  /** The image config, given the layer's diff ID. */
  config: (diffId: string) => ImageConfig;
  what?: string;
}

export function tarballSource(src: Readable | AsyncIterable<unknown>, opts: TarballSourceOptions): ImageSource {
  return {
    what: opts.what,
    async read(w) {
      const stream = src instanceof Readable ? src : Readable.from(src as AsyncIterable<unknown>, { objectMode: false });
      const layer = await w.blob(stream, { role: 'layer', mediaType: MediaType.ociLayer });
      const bytes = Buffer.from(JSON.stringify(opts.config(layer.digest)));
      const cfg = await w.blob(bytes, { role: 'config', mediaType: MediaType.ociConfig });
      await w.images([{ names: opts.names, config: { digest: cfg.digest, size: cfg.size, bytes, mediaType: MediaType.ociConfig }, layers: [{ digest: layer.digest, size: layer.size, mediaType: MediaType.ociLayer }] }]);
    },
  };
}
