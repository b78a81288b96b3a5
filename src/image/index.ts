/** Images: references, metadata store, config changes, the local store, the copy pipeline and its transports. Public surface. */
export { ImageStore } from './store.js';
export type { ImageRecord, LayerRecord } from './store.js';
export { applyChanges } from './changes.js';
export type { ContainerConfig } from './changes.js';
export { parseReference, familiarName } from './reference.js';
export type { Reference } from './reference.js';
export { recordImage, storeLayer, blobInUse, layerInUse } from './local.js';
export type { LocalStore, RecordImageOptions } from './local.js';
export { ociManifestBytes } from './manifest.js';
export * from './copy/index.js';
