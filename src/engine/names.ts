/**
 * Container names, one file each (NAME → id and the pid of the process that claimed it), made
 * with O_EXCL: a name is taken at once and by one container only, also when several berth
 * processes create containers at the same time, and looking one up reads one file.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, errnoCode } from '../lib/errors.js';
import { withLock } from '../sys/lock.js';
import { processAlive } from '../sys/proc.js';

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

export class NameIndex {
  constructor(
    private readonly dir: string,
    /** Whether a container with this id is recorded. */
    private readonly exists: (id: string) => boolean,
  ) {}

  private entry(name: string): { id: string; pid: number } | undefined {
    try {
      const [id, pid] = readFileSync(join(this.dir, name), 'utf8').split('\n');
      return id ? { id, pid: Number(pid) } : undefined;
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
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, name);
    const line = `${id}\n${process.pid}\n`;
    const tmp = `${this.dir}.${process.pid}.tmp`;
    const take = (): boolean => {
      writeFileSync(tmp, line);
      try {
        linkSync(tmp, path);
        return true;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
        return false;
      } finally {
        rmSync(tmp, { force: true });
      }
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (take()) return;
      const held = this.entry(name);
      if (held && (this.exists(held.id) || processAlive(held.pid))) {
        throw conflict(
          purpose === 'container'
            ? `Conflict. The container name "/${name}" is already in use by container "${held.id}". You have to remove (or rename) that container to be able to reuse that name.`
            : `Conflict. The container name "/${name}" is already in use by container "${held.id}".`,
        );
      }
      withLock(`${this.dir}.lock`, () => {
        const now = this.entry(name);
        if (now ? now.id === held?.id && now.pid === held.pid : emptyAndOld(path)) rmSync(path, { force: true });
      });
    }
    throw conflict(`Conflict. The container name "/${name}" is being taken by another berth process`);
  }

  /** Gives `name` back, if `id` holds it. */
  release(name: string, id: string): void {
    if (this.entry(name)?.id === id) rmSync(join(this.dir, name), { force: true });
  }
}
