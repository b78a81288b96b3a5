/**
 * The engine facade: one object with every service the front ends call (the CLI makes one per
 * command; an API service holds one for hours). Services are made on first use, and what they
 * load (networks, archives, builds) is loaded when a call needs it: a `run --rm --network none`
 * pays for the image and container services only.
 */
import { ContainerService } from './containers.js';
import { Builds, Containers, Networks } from './facade.js';
import { ImageService } from './images.js';
import type { RegistryService } from './registry.js';
import { System } from './system.js';
import { Volumes } from './volumes.js';

import { DEFAULT_ROOT, DEFAULT_RUNROOT } from './defaults.js';
export { DEFAULT_ROOT, DEFAULT_RUNROOT };

export interface EngineOptions {
  /** Images, containers, volumes, networks (default /var/lib/berth). */
  root?: string;
  /** Runtime state: pids, sockets, bundles (default /run/berth). */
  runroot?: string;
  /** overlay or vfs (default: overlay where the kernel has it). */
  storageDriver?: string;
  /** The registry client's config directory: config.json (credentials, mirrors), certs.d (default ~/.config/berth). */
  configDir?: string;
}

export class Engine {
  readonly root: string;
  readonly runroot: string;
  readonly storageDriver: string | undefined;
  readonly configDir: string | undefined;
  private imageService: ImageService | undefined;
  private containerService: ContainerService | undefined;
  private made: { containers?: Containers; volumes?: Volumes; networks?: Networks; builds?: Builds; system?: System } = {};

  constructor(o: EngineOptions = {}) {
    this.root = o.root ?? DEFAULT_ROOT;
    this.runroot = o.runroot ?? DEFAULT_RUNROOT;
    this.storageDriver = o.storageDriver;
    this.configDir = o.configDir;
  }

  /** Images: list, inspect, tag, remove, prune, import, history, disk use (save/load: archives). */
  get images(): ImageService {
    // rmi and prune know which images containers use.
    return (this.imageService ??= new ImageService({ root: this.root, storageDriver: this.storageDriver, configDir: this.configDir, inUse: () => this.records.imagesInUse(), users: (id) => this.records.list().filter((c) => c.ImageID === id).map((c) => ({ Id: c.Id, running: c.State.Status === 'running' })) }));
  }

  /** Registries: pull, push, login, logout, remote manifests (loaded on first use). */
  registry(): Promise<RegistryService> {
    return this.images.registry();
  }

  /** The container records service the use cases share. */
  private get records(): ContainerService {
    return (this.containerService ??= new ContainerService(this.images, { root: this.root, runroot: this.runroot }));
  }

  get containers(): Containers {
    return (this.made.containers ??= new Containers(this.records, this.images));
  }

  get volumes(): Volumes {
    return (this.made.volumes ??= new Volumes(this.records));
  }

  get networks(): Networks {
    return (this.made.networks ??= new Networks(this.records));
  }

  get builds(): Builds {
    return (this.made.builds ??= new Builds(this, this.images));
  }

  get system(): System {
    return (this.made.system ??= new System(this, this.images, this.records));
  }
}

/** The engine over one root and run directory. */
export function createEngine(o: EngineOptions = {}): Engine {
  return new Engine(o);
}
