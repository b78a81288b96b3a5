/**
 * The engine: berth's use cases, the one layer that wires the others together. Front ends (the
 * CLI, an API server, compose) call the facade: `createEngine({ root, runroot, storageDriver })`
 * (engine.ts) returns one object with the services — images, containers, volumes, networks,
 * builds, system — made on first use (facade.ts; the use cases beside it: container-query.ts,
 * stats.ts, network-query.ts, volumes.ts, system.ts, build-context.ts).
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
// A detached container's attach socket joined to the caller's streams (the CLI's: its terminal).
export { attachStreams } from './attach.js';
export type { AttachSession, AttachStreams, Attached } from './attach.js';
export type { ContainerRecord, ContainerStdio, LogRecord, LogsOptions, ContainerRunOptions, TerminalSize } from './containers.js';
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
// Docker Engine API shapes of requests and records (Config, HostConfig, ...), one namespace for
// every front end, and the parsers of Docker's short syntaxes into them.
export type * as api from './models.js';
export { containerCreateBody, containerCreateRequestFromBody } from './models.js';
export * from './models-parse.js';
// The facade: one object with the services every front end calls (engine.ts).
export { createEngine, Engine, DEFAULT_ROOT, DEFAULT_RUNROOT } from './engine.js';
export type { EngineOptions } from './engine.js';
export type { Containers, Networks, Builds, BuildRequest } from './facade.js';
export type { Volumes, Volume } from './volumes.js';
export type { System, SystemInfo, SystemPruneResult } from './system.js';
export type { ContainerListQuery, ContainerSummary, PortRecord } from './container-query.js';
export type { ContainerStats, StatsQuery } from './stats.js';
export type { ProgressMessage, PullRequest, PullResult, PushRequest, PushResult, RegistryService } from './registry.js';
export type { NetworkSummary } from './network-query.js';
export type { Filters } from './filters.js';
export type { BuildContextRequest, BuildSecret } from './build-context.js';
