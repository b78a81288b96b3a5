/**
 * The engine: berth's use cases, the one layer that wires the others together. For now it offers
 * the runtime (containers at the OCI level); images, containers, networks and builds join later.
 */
export { Runtime, defaultSpec, makeBusyboxRootfs, findStaticBusybox } from '../runtime/index.js';
export type { CreateOptions, RunOptions, ExecOptions, ExitStatus, ContainerInfo } from '../runtime/index.js';
export { ImageService, packDir } from './images.js';
export type { ImageSummary, ImageServiceOptions } from './images.js';
export { saveArchive, saveLayoutDir, loadArchive } from './archive.js';
export { ContainerService, DOCKER_DEFAULT_CAPS } from './containers.js';
export type { ContainerRecord, RunOptions as ContainerRunOptions } from './containers.js';
