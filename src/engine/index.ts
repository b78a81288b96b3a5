/**
 * The engine: berth's use cases, the one layer that wires the others together. For now it offers
 * the runtime (containers at the OCI level); images, containers, networks and builds join later.
 */
export { RuntimeService, defaultSpec, makeBusyboxRootfs } from './runtime.js';
export type { BundleCreateOptions, BundleRunOptions, BundleExecOptions, BundleExitStatus, BundleContainerInfo } from './runtime.js';
export { ImageService, packDir } from './images.js';
export type { ImageSummary, ImageServiceOptions } from './images.js';
// Archives (tar, gzip) are loaded only by the commands that use them.
import type { Loaded, SaveOptions } from './archive.js';
import type { ImageService as ImageServiceT } from './images.js';
import type { Readable, Writable } from 'node:stream';
export type { Loaded, SaveOptions };
export async function saveArchive(svc: ImageServiceT, names: string[], dest: Writable, opts: SaveOptions): Promise<void> {
  return (await import('./archive.js')).saveArchive(svc, names, dest, opts);
}
export async function saveLayoutDir(svc: ImageServiceT, names: string[], dir: string): Promise<void> {
  return (await import('./archive.js')).saveLayoutDir(svc, names, dir);
}
export async function loadArchive(svc: ImageServiceT, src: Readable, opts: { source?: string } = {}): Promise<Loaded[]> {
  return (await import('./archive.js')).loadArchive(svc, src, opts);
}
export { ContainerService, DOCKER_DEFAULT_CAPS, readLogs } from './containers.js';
export { parseMountFlag } from './container-spec.js';
// A detached container's attach socket joined to the caller's streams (the CLI's: its terminal).
export { attachStreams } from './attach.js';
export type { AttachSession, AttachStreams, Attached } from './attach.js';
export type { ContainerRecord, LogRecord, LogsOptions, RunOptions as ContainerRunOptions } from './containers.js';
// Builds (the Dockerfile solver) are loaded only by `build` and `builder prune`.
import type { BuildOptions, BuildResult, BuildOutput } from './build.js';
export type { BuildOptions, BuildResult, BuildOutput };
export type { ProgressEvent } from './build.js';
export async function buildImage(svc: ImageServiceT, o: { root: string; runroot: string }, opts: BuildOptions): Promise<BuildResult> {
  return (await import('./build.js')).buildImage(svc, o, opts);
}
export async function exportBuilt(svc: ImageServiceT, id: string, out: BuildOutput): Promise<void> {
  return (await import('./build.js')).exportBuilt(svc, id, out);
}
export async function pruneBuildCache(svc: ImageServiceT, root: string): Promise<{ records: number; reclaimed: number }> {
  return (await import('./build.js')).pruneBuildCache(svc, root);
}
export type { NetworkRecord, NetworkSettings, EndpointSettings, NetworkService } from './networks.js';
// The default state directories (--root, --runroot), for every front end.
export { DEFAULT_ROOT, DEFAULT_RUNROOT } from './defaults.js';
// Docker Engine API shapes of requests and records (Config, HostConfig, ...), one namespace for
// every front end, and the parsers of Docker's short syntaxes into them.
export type * as api from './models.js';
export { containerCreateBody, containerCreateRequestFromBody } from './models.js';
export * from './models-parse.js';
