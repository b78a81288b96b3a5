/**
 * Container names, one file each (NAME → id and the pid of the process that claimed it), made
 * with O_EXCL: a name is taken at once and by one container only, also when several berth
 * processes create containers at the same time, and looking one up reads one file.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, errnoCode } from '../lib/errors.js';
import { processAlive } from '../sys/proc.js';

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
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) return undefined;
    return this.entry(name)?.id;
  }

  /** Takes `name` for `id`, or throws Docker's conflict. A claim whose container never came to be (its creator died) is taken over. */
  claim(name: string, id: string, purpose: 'container' | 'rename'): void {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, name);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(path, `${id}\n${process.pid}\n`, { flag: 'wx' });
        return;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
      }
      const held = this.entry(name);
      if (held && (this.exists(held.id) || processAlive(held.pid))) {
        throw conflict(
          purpose === 'container'
            ? `Conflict. The container name "/${name}" is already in use by container "${held.id}". You have to remove (or rename) that container to be able to reuse that name.`
            : `Conflict. The container name "/${name}" is already in use by container "${held.id}".`,
        );
      }
      rmSync(path, { force: true });
    }
    throw conflict(`Conflict. The container name "/${name}" is being taken by another berth process`);
  }

  /** Gives `name` back, if `id` holds it. */
  release(name: string, id: string): void {
    if (this.entry(name)?.id === id) rmSync(join(this.dir, name), { force: true });
  }
}
