/**
 * registry/: the distribution client — config and credentials (config.ts), HTTP with TLS,
 * redirects and retries (http.ts), auth (auth.ts), one registry's API (client.ts), and the
 * registry as a transport of the image-copy pipeline (transport.ts). Public surface.
 */
export { ClientConfig } from './config.js';
export type { ConfigFileData, Credentials, RegistryHostConfig, TlsFiles } from './config.js';
export { Registries, Repository, RegistryError, berthErrorOf, registryErrorText, DOCKER_IO_REGISTRY, MAX_MANIFEST } from './client.js';
export type { Endpoint, FetchedManifest, RegistryOptions } from './client.js';
export { parseChallenges } from './auth.js';
export { retryAfterMs } from './http.js';
export { choosePlatform, registryDestination, registrySource, resolveIn, resolveRemote } from './transport.js';
export type { RegistryDestination, RegistryDestinationOptions, RegistrySourceOptions, RemoteImage } from './transport.js';
