/**
 * Container names, one file each (NAME → id and the pid of the process that claimed it), a record
 * of the metadata store made by exclusive create: a name is taken at once and by one container
 * only, also when several berth processes create containers at the same time, and looking one up
 * reads one file.
 */
import { statSync } from 'node:fs';
import { conflict } from '../lib/errors.js';
import { processAlive } from '../sys/proc.js';
import { RecordStore } from '../sys/store.js';

/** Docker's rule for the names of containers, networks and aliases: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
export const validName = (s: string): boolean => /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(s);

/** An empty claim left by an older berth that died between creating and writing it. */
function emptyAndOld(path: string): boolean {
  try {
    const st = statSync(path);
    return st.size === 0 && Date.now() - st.mtimeMs > 10_000;
  } catch {
    return false;
  }
}

interface Claim {
  id: string;
  pid: number;
}

export class NameIndex {
  private readonly store: RecordStore<Claim>;

  constructor(
    dir: string,
    /** Whether a container with this id is recorded. */
    private readonly exists: (id: string) => boolean,
  ) {
    this.store = new RecordStore<Claim>(dir, {
      // "ID\nPID\n" in a file named as the container
      codec: {
        encode: (c) => `${c.id}\n${c.pid}\n`,
        decode: (text) => {
          const [id = '', pid] = text.split('\n');
          return { id, pid: Number(pid) };
        },
      },
      file: (name) => name,
      idOf: (entry) => (validName(entry) ? entry : undefined),
      // One lock for the index: only taking over a dead claim needs it.
      lock: () => `${dir}.lock`,
    });
  }

  private entry(name: string): Claim | undefined {
    try {
      const c = this.store.get(name);
      return c?.id ? c : undefined;
    } catch {
      return undefined;
    }
  }

  lookup(name: string): string | undefined {
    if (!validName(name)) return undefined;
    return this.entry(name)?.id;
  }

  /**
   * Takes `name` for `id`, or throws Docker's conflict. The claim is written whole and then linked
   * into place (link fails when the name is taken), so no other process ever reads it half-made.
   * A claim whose container never came to be (its creator died) is taken over, under a lock so
   * that two takers cannot both remove it (and one of them the other's new claim).
   */
  claim(name: string, id: string, purpose: 'container' | 'rename'): void {
    const path = this.store.path(name);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.store.create(name, { id, pid: process.pid })) return;
      const held = this.entry(name);
      if (held && (this.exists(held.id) || processAlive(held.pid))) {
        throw conflict(
          purpose === 'container'
            ? `Conflict. The container name "/${name}" is already in use by container "${held.id}". You have to remove (or rename) that container to be able to reuse that name.`
            : `Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${held.id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      this.store.withLock(name, () => {
        const now = this.entry(name);
        if (now ? now.id === held?.id && now.pid === held.pid : emptyAndOld(path)) this.store.delete(name);
      });
    }
    throw conflict(`Conflict. The container name "/${name}" is being taken by another berth process`);
  }

  /** Whether a live process holds `name` for `id`: a container being made, not yet recorded. */
  heldAlive(name: string, id: string): boolean {
    const e = this.entry(name);
    return e !== undefined && e.id === id && processAlive(e.pid);
  }

  /** Gives `name` back, if `id` holds it. */
  release(name: string, id: string): void {
    if (this.entry(name)?.id === id) this.store.delete(name);
  }
}
