/** content/: digest-addressed blobs — ingest → verify → atomic commit; garbage collection. */
export { ContentStore } from './store.js';
export type { BlobInfo, ContentStoreOptions, Expect, GcOptions, GcResult, WriteOptions } from './store.js';
