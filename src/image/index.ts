/** Images: references, metadata store, config changes, archives. Public surface. */
export { ImageStore } from './store.js';
export type { ImageRecord, LayerRecord } from './store.js';
export { applyChanges } from './changes.js';
export type { ContainerConfig } from './changes.js';
export { parseReference, familiarName } from './reference.js';
export type { Reference } from './reference.js';
