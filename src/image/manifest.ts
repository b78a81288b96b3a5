/** The OCI manifest berth writes for an image that came without one (import, commit, docker-archive). */
import { MediaType } from '../oci/image-spec.js';

export function ociManifestBytes(config: { digest: string; size: number }, layers: readonly { mediaType?: string | undefined; digest: string; size: number }[]): Buffer {
  const m = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType ?? MediaType.ociLayer, digest: l.digest, size: l.size })),
  };
  return Buffer.from(JSON.stringify(m));
}
