/**
 * A build as the Engine API's POST /build asks for it (its query: dockerfile, t, buildargs,
 * target, nocache, labels, networkmode, ...) → the builder's options. Every front end sends this
 * shape; what berth's builder does not do is refused by name rather than ignored.
 */
import { invalidArgument } from '../lib/errors.js';
import type { BuildOptions } from './build.js';
import type { BuildRequest as ApiBuildRequest } from './models.js';

export type BuildQueryOptions = Pick<BuildOptions, 'tags' | 'buildArgs' | 'target' | 'noCache' | 'labels' | 'network'>;

export function buildOptionsOf(q: ApiBuildRequest): BuildQueryOptions {
  if (q.remote) throw invalidArgument(`build: a remote context ${JSON.stringify(q.remote)} is not supported (builds stay offline)`);
  for (const k of ['cachefrom', 'squash', 'extrahosts', 'platform'] as const) {
    const v = q[k];
    if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0) && v !== '') throw invalidArgument(`build: ${k} is not supported`);
  }
  let network: BuildQueryOptions['network'];
  const net = q.networkmode;
  if (net !== undefined && net !== '') {
    if (net === 'default' || net === 'bridge') network = 'bridge';
    else if (net === 'host' || net === 'none') network = net;
    else throw invalidArgument(`--network ${JSON.stringify(net)}: builds use default (the bridge), host or none`);
  }
  for (const name of Object.keys(q.buildargs ?? {})) if (name === '') throw invalidArgument('--build-arg "=...": the name is empty');
  return {
    tags: q.t ?? [],
    buildArgs: { ...(q.buildargs ?? {}) },
    target: q.target || undefined,
    noCache: q.nocache === true,
    labels: { ...(q.labels ?? {}) },
    network,
  };
}
