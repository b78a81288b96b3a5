/**
 * The services of the engine facade that front ends call (see engine.ts): containers, networks and
 * builds. Each is a thin layer over the use cases: it joins the record services (ContainerService,
 * NetworkService, ImageService) with the queries written beside them (container-query.ts,
 * stats.ts, network-query.ts, build-context.ts), and loads what a call needs only when it is made.
 */
import type { BuildRequest as ApiBuildRequest, NetworkCreateRequest, NetworkInspect } from './models.js';
import type { BuildOptions, BuildOutput, BuildResult } from './build.js';
import type { BuildContextRequest, BuildSecret } from './build-context.js';
import { listContainers, type ContainerListQuery, type ContainerSummary } from './container-query.js';
import { readLogs, type ContainerService, type LogRecord, type LogsOptions } from './containers.js';
import type { Filters } from './filters.js';
import type { ImageService } from './images.js';
import type { NetworkRecord, NetworkService } from './networks.js';
import type { NetworkSummary } from './network-query.js';
import type { ContainerStats, StatsQuery } from './stats.js';

type CS = ContainerService;

/** Containers: their life cycle, what runs in them, their files, and listing them. */
export class Containers {
  constructor(
    private readonly svc: ContainerService,
    private readonly images: ImageService,
  ) {}

  create(...a: Parameters<CS['create']>) {
    return this.svc.create(...a);
  }
  run(...a: Parameters<CS['run']>) {
    return this.svc.run(...a);
  }
  start(...a: Parameters<CS['start']>) {
    return this.svc.start(...a);
  }
  stop(...a: Parameters<CS['stop']>) {
    return this.svc.stop(...a);
  }
  restart(...a: Parameters<CS['restart']>) {
    return this.svc.restart(...a);
  }
  kill(...a: Parameters<CS['kill']>) {
    return this.svc.kill(...a);
  }
  wait(...a: Parameters<CS['wait']>) {
    return this.svc.wait(...a);
  }
  pause(...a: Parameters<CS['pause']>) {
    return this.svc.pause(...a);
  }
  unpause(...a: Parameters<CS['unpause']>) {
    return this.svc.unpause(...a);
  }
  update(...a: Parameters<CS['update']>) {
    return this.svc.update(...a);
  }
  rename(...a: Parameters<CS['rename']>) {
    return this.svc.rename(...a);
  }
  remove(...a: Parameters<CS['remove']>) {
    return this.svc.remove(...a);
  }
  /** Removes every container that is not running; their ids. */
  prune(...a: Parameters<CS['prune']>) {
    return this.svc.prune(...a);
  }
  exec(...a: Parameters<CS['exec']>) {
    return this.svc.exec(...a);
  }
  attach(...a: Parameters<CS['attach']>) {
    return this.svc.attach(...a);
  }
  /** The record of a container by name, id or id prefix. */
  find(...a: Parameters<CS['find']>) {
    return this.svc.find(...a);
  }
  /** Docker-shaped details. */
  inspect(...a: Parameters<CS['inspect']>) {
    return this.svc.inspect(...a);
  }
  /** `ps`: the running containers (all with `all`), filtered. */
  async list(q: ContainerListQuery = {}): Promise<ContainerSummary[]> {
    const sizes = new Map<string, number>();
    if (q.size) for (const c of this.svc.list()) sizes.set(c.Id, await this.images.snapshots.writableSize(c.Id).catch(() => 0));
    return listContainers({ containers: this.svc, images: this.images }, q, sizes);
  }
  /** Readings of resource use (stats.ts); one, or one a second with `stream`. */
  async *stats(q: StatsQuery & { stream?: boolean } = {}): AsyncGenerator<ContainerStats[]> {
    const { statsReadings } = await import('./stats.js');
    yield* statsReadings(this.svc, q);
  }
  /** The log's records (a detached container's), followed while it runs with `follow`. */
  logs(nameOrId: string, o: LogsOptions = {}): AsyncGenerator<LogRecord> {
    return readLogs(this.svc, nameOrId, o);
  }
  top(...a: Parameters<CS['top']>) {
    return this.svc.top(...a);
  }
  ports(...a: Parameters<CS['ports']>) {
    return this.svc.ports(...a);
  }
  diff(...a: Parameters<CS['diff']>) {
    return this.svc.diff(...a);
  }
  commit(...a: Parameters<CS['commit']>) {
    return this.svc.commit(...a);
  }
  exportFs(...a: Parameters<CS['exportFs']>) {
    return this.svc.exportFs(...a);
  }
  copyIn(...a: Parameters<CS['copyIn']>) {
    return this.svc.copyIn(...a);
  }
  copyOut(...a: Parameters<CS['copyOut']>) {
    return this.svc.copyOut(...a);
  }
  /** Run by a container's monitor every health interval. */
  healthcheck(...a: Parameters<CS['healthcheck']>) {
    return this.svc.healthcheck(...a);
  }
  /** Run by a container's monitor when it ended: its network down, the restart policy. */
  cleanup(...a: Parameters<CS['cleanup']>) {
    return this.svc.cleanup(...a);
  }
}

/** Networks (loaded on the first call: a container on `--network none` never needs them). */
export class Networks {
  constructor(private readonly containers: ContainerService) {}

  private service() {
    return this.containers.networks();
  }

  /** `network create`: Docker's NetworkCreateRequest (Name, Driver, Internal, IPAM, Options, Labels). */
  async create(req: NetworkCreateRequest): Promise<NetworkRecord> {
    return (await this.service()).create(req);
  }
  async list(q: { filters?: Filters } = {}): Promise<NetworkSummary[]> {
    const { listNetworks } = await import('./network-query.js');
    return listNetworks(await this.service(), q);
  }
  async inspect(nameOrId: string): Promise<NetworkInspect> {
    const { inspectNetwork } = await import('./network-query.js');
    return inspectNetwork(await this.service(), this.containers, nameOrId);
  }
  /** Not one that a container is on; the name removed. Addresses no container holds (a berth killed while it made one) do not count. */
  async remove(nameOrId: string): Promise<string> {
    const net = await this.service();
    const n = net.find(nameOrId);
    for (const [id, ep] of Object.entries(n.Endpoints)) if (this.containers.orphanEndpoint(id, ep.Name)) net.release(id, [n.Id]);
    return net.remove(nameOrId);
  }
  /** Removes the networks no container uses (label= filters), and what crashed containers left. */
  async prune(q: { filters?: Filters } = {}): Promise<string[]> {
    const { pruneNetworks } = await import('./network-query.js');
    return pruneNetworks(await this.service(), this.containers, q);
  }
  connect(...a: Parameters<CS['connect']>) {
    return this.containers.connect(...a);
  }
  disconnect(...a: Parameters<CS['disconnect']>) {
    return this.containers.disconnect(...a);
  }
}

/**
 * A build: where its context comes from, Docker's POST /build query (the Dockerfile's path, tags,
 * build args, target, labels, RUN's network, ...), its secrets, and how it reports progress.
 */
export type BuildRequest = Omit<BuildContextRequest, 'file'> & {
  query: ApiBuildRequest;
  secrets?: Record<string, BuildSecret>;
  onProgress?: BuildOptions['onProgress'];
  signal?: BuildOptions['signal'];
};

/** Dockerfile builds, their outputs and the build cache. */
export class Builds {
  constructor(
    private readonly o: { root: string; runroot: string },
    private readonly images: ImageService,
  ) {}

  /** Prepares the context, builds, and removes the scratch copies (also when the build fails). */
  async build(req: BuildRequest): Promise<BuildResult> {
    const [{ buildImage }, { Scratch, prepareContext, secretFiles }] = await Promise.all([import('./build.js'), import('./build-context.js')]);
    const scratch = new Scratch(this.o.root);
    try {
      const { buildOptionsOf } = await import('./build-request.js');
      const opts = buildOptionsOf(req.query);
      const ctx = await prepareContext(scratch, { context: req.context, input: req.input, file: req.query.dockerfile || undefined });
      return await buildImage(this.images, this.o, { ...opts, onProgress: req.onProgress, signal: req.signal, ...ctx, secrets: secretFiles(scratch, req.secrets ?? {}) });
    } finally {
      scratch.cleanup();
    }
  }
  /** Writes a built image where `--output` says: an OCI or Docker archive, or a directory. */
  async export(id: string, out: BuildOutput): Promise<void> {
    return (await import('./build.js')).exportBuilt(this.images, id, out);
  }
  /** Forgets the build cache; the layers only it kept are removed. */
  async prune(): Promise<{ records: number; reclaimed: number }> {
    return (await import('./build.js')).pruneBuildCache(this.images, this.o.root);
  }
}
