/**
 * Runtime state on disk: one directory per container under the runtime root, holding state.json
 * (written atomically) and, between create and start, the start fifo.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, errnoCode, invalidArgument, notFound } from '../lib/errors.js';
import type { Spec, State, Status } from '../oci/runtime-spec.js';
import { OCI_VERSION } from '../oci/runtime-spec.js';
import { writeFileAtomic } from '../sys/fs.js';
import { processAlive } from '../sys/proc.js';

export const DEFAULT_RUNTIME_ROOT = '/run/berth/runtime';

/** What berth records about a container, beyond the spec's State. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** 'creating' until create finished; 'created' after. The live status is computed. */
  phase: 'creating' | 'created';
  pid: number;
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  cgroupPath: string;
  annotations?: Record<string, string>;
  spec: Spec;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

export function validateId(id: string): void {
  if (!id) throw invalidArgument('container id must not be empty');
  if (!ID_RE.test(id) || id.length > 1024) throw invalidArgument(`invalid container id ${JSON.stringify(id)}: only letters, digits and _.+- are allowed`);
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }
  fifo(id: string): string {
    return join(this.root, id, 'exec.fifo');
  }

  /** Claims the id: creates its directory, failing if it exists. */
  claim(id: string): string {
    validateId(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw alreadyExists(`container with id ${JSON.stringify(id)} already exists`);
      throw e;
    }
    return dir;
  }

  write(rec: ContainerRecord): void {
    writeFileAtomic(join(this.dir(rec.id), 'state.json'), JSON.stringify(rec));
  }

  read(id: string): ContainerRecord {
    validateId(id);
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), 'state.json'), 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw notFound(`container ${JSON.stringify(id)} does not exist`);
      throw e;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return readdirSync(this.root).filter((n) => ID_RE.test(n) && existsSync(join(this.root, n, 'state.json')));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** The live status: a dead process means stopped; a live one waiting at the fifo means created. */
  status(rec: ContainerRecord): Status {
    if (rec.phase === 'creating') return processAlive(rec.pid, rec.pidStartTime) || rec.pid === 0 ? 'creating' : 'stopped';
    if (!processAlive(rec.pid, rec.pidStartTime)) return 'stopped';
    return existsSync(this.fifo(rec.id)) ? 'created' : 'running';
  }

  state(rec: ContainerRecord): State {
    const status = this.status(rec);
    const st: State = { ociVersion: rec.ociVersion || OCI_VERSION, id: rec.id, status, bundle: rec.bundle };
    if (status !== 'stopped') st.pid = rec.pid;
    else st.pid = 0;
    if (rec.annotations && Object.keys(rec.annotations).length) st.annotations = rec.annotations;
    return st;
  }
}
