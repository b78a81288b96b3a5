/**
 * image/copy: one pipeline that moves images between transports (as containers/image does).
 * copyImage(source, destination) drives it; a transport is a source side, a destination side or
 * both (types.ts). Transports here: the local store, docker-archive and oci-archive tar streams,
 * OCI layout directories, and a root file system tar (import). A registry adds a transport.
 */
export { copyImage } from './copy.js';
export { storeSource, storeDestination } from './store.js';
export type { StoreDestinationOptions } from './store.js';
export { archiveSource } from './archive-source.js';
export { archiveDestination, layoutDirDestination } from './layout-dest.js';
export type { ArchiveFormat } from './layout-dest.js';
export { layoutDirSource } from './layout-source.js';
export { tarballSource } from './tarball-source.js';
export type { TarballSourceOptions } from './tarball-source.js';
export type {
  BlobData,
  BlobHint,
  BlobInfo,
  BlobRole,
  CopiedImage,
  CopyEvent,
  CopyOptions,
  ImageDestination,
  ImageSource,
  IncomingBlob,
  ResolvedImage,
  SourceImage,
  SourceWriter,
} from './types.js';
