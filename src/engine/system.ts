/**
 * `system prune`, `system df` and `info`: what spans the services (containers, networks, images,
 * the build cache), as the API's /system/df, /info and the prune endpoints need it too.
 */
import type { ContainerService } from './containers.js';
import type { ImageService } from './images.js';

export interface SystemPruneResult {
  containers: string[];
  networks: string[];
  images: string[];
  buildCacheRecords: number;
  /** Bytes: of the images and the build cache. */
  reclaimed: number;
}

export interface SystemInfo {
  Containers: number;
  ContainersRunning: number;
  DockerRootDir: string;
  RunRoot: string;
  /** nftables, iptables or none (published ports then through a userland proxy). */
  Firewall: string;
  /** The cgroup whose programs redirect TCP to published ports at connect(), or ''. */
  PortsAtConnect: string;
  /** "NAME (BRIDGE, SUBNET)" of each network. */
  Networks: string[];
}

export class System {
  constructor(
    private readonly o: { root: string; runroot: string },
    private readonly images: ImageService,
    private readonly containers: ContainerService,
  ) {}

  /**
   * Removes stopped containers, unused networks (and what crashed containers left of theirs),
   * dangling images (all unused with `all`) and the build cache.
   */
  async prune(o: { all?: boolean } = {}): Promise<SystemPruneResult> {
    const containers = await this.containers.prune();
    const networks = (await this.containers.networks()).prune((id) => this.containers.isRunning(id), undefined, (id) => this.containers.exists(id));
    const images = this.images.prune({ all: o.all === true });
    const { pruneBuildCache } = await import('./build.js');
    const cache = await pruneBuildCache(this.images, this.o.root);
    return { containers, networks, images: images.deleted, buildCacheRecords: cache.records, reclaimed: images.reclaimed + cache.reclaimed };
  }

  df(): ReturnType<ImageService['df']> {
    return this.images.df();
  }

  async info(): Promise<SystemInfo> {
    const net = await this.containers.networks();
    const all = this.containers.list();
    return {
      Containers: all.length,
      ContainersRunning: all.filter((c) => c.State.Status === 'running').length,
      DockerRootDir: this.o.root,
      RunRoot: this.o.runroot,
      Firewall: net.firewallBackend(),
      PortsAtConnect: net.localPortsCgroup() ?? '',
      Networks: net.list().map((n) => `${n.Name} (${n.Bridge}, ${n.Subnet})`),
    };
  }
}
