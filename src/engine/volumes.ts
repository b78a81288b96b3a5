/**
 * Volumes as the front ends see them: create (the local driver only), list, inspect, remove (not
 * while a container mounts one) and prune (the unused anonymous ones, or all unused with `all`).
 */
import type { VolumeCreateRequest } from './models.js';
import { invalidArgument, notFound } from '../lib/errors.js';
import { boolFilter, filterMap, filterMatch, labelMatches, type Filters } from './filters.js';
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

  /**
   * `volume ls` (GET /volumes) with dockerd's filters: dangling (true: no container mounts it;
   * false: one does), name (the name or a pattern in it), label (KEY or KEY=VALUE, all must hold),
   * driver (exactly).
   */
  list(q: { filters?: Filters } = {}): Volume[] {
    const f = filterMap(q.filters, ['dangling', 'driver', 'label', 'name']);
    const dangling = boolFilter(f, 'dangling');
    return this.store.list().filter((v) => {
      if (dangling !== undefined && (this.containers.volumeUsers(v.Name).length === 0) !== dangling) return false;
      if (!filterMatch(f.get('name'), v.Name)) return false;
      if (f.has('driver') && !f.get('driver')!.includes(v.Driver)) return false;
      return !f.has('label') || f.get('label')!.every((l) => labelMatches(v.Labels ?? {}, l));
    });
  }

  inspect(name: string): Volume {
    return this.store.require(name);
  }

  /** `volume rm`: not while a container mounts it; with `force`, a volume that is not there is no error (Docker's). */
  remove(name: string, o: { force?: boolean } = {}): void {
    if (!this.store.get(name)) {
      if (o.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
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
