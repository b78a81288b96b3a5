/**
 * Volumes as the front ends see them: create (the local driver only), list, inspect, remove (not
 * while a container mounts one) and prune (the unused anonymous ones, or all unused with `all`).
 */
import type { VolumeCreateRequest } from './models.js';
import { invalidArgument } from '../lib/errors.js';
import type { ContainerService } from './containers.js';

/** A volume as Docker shows it (the volume store's record). */
export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: 'local';
  /** Made for one container (an unnamed -v or an image's VOLUME): `rm -v` removes it. */
  Anonymous: boolean;
}

export class Volumes {
  constructor(private readonly containers: ContainerService) {}

  private get store() {
    return this.containers.volumes;
  }

  /** `volume create`, as the Engine API's POST /volumes/create asks (the local driver: its type/device/o options). */
  create(req: VolumeCreateRequest = {}): Volume {
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw invalidArgument(`volume driver ${JSON.stringify(driver)} is not there (local only)`);
    return this.store.create(req.Name || undefined, { labels: req.Labels ?? {}, options: req.DriverOpts ?? null });
  }

  list(): Volume[] {
    return this.store.list();
  }

  inspect(name: string): Volume {
    return this.store.require(name);
  }

  remove(name: string): void {
    this.store.remove(name, this.containers.volumeUsers(name));
  }

  /** Removes the volumes no container mounts: anonymous ones, or named ones too with `all`. */
  prune(o: { all?: boolean } = {}): { deleted: string[]; reclaimed: number } {
    const deleted: string[] = [];
    for (const v of this.store.list()) {
      if ((!v.Anonymous && !o.all) || this.containers.volumeUsers(v.Name).length) continue;
      this.store.remove(v.Name);
      deleted.push(v.Name);
    }
    // Space is not counted yet (Docker's figure: the size of the directories removed).
    return { deleted, reclaimed: 0 };
  }
}
