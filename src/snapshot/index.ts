/**
 * snapshot: layer storage. Committed read-only layers keyed by chain ID, unpacked once each from
 * their tars; writable snapshots on top of them (overlay: upper/work over the layer directories;
 * vfs: full copies), their changes (docker diff) and those changes as a layer tar.
 */
export { Snapshotter, chainId, OVERLAY_OPTIONS } from './snapshotter.js';
export type { Driver, Mount, ApplyResult, CommitResult, Change, IdShift } from './snapshotter.js';
export { copyTree, extractInto, packFrom, packNames } from './rooted-tar.js';
export { decompress as decompressTar } from './apply.js';
export { treeSize } from './usage.js';
export type { ExtractOptions, ExtractResult, PackOptions } from './rooted-tar.js';
export { copyPreserving, StageTree, withStageTree } from './stage-tree.js';
export type { PlaceMeta, StageStat } from './stage-tree.js';
