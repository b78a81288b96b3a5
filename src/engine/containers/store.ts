/**
 * The containers' records (metadata/containers/ID.json) and their names: found by id, name or id
 * prefix; a record of a running container is brought up to date with how its process ended when
 * it is read (`refresh`); every change of a record is a read-modify-write under its lock
 * (`update`, `patch`), so the CLI, monitors and a service writing one record at once lose nothing.
 */
import { parseExitStatus } from '../../sys/exit-status.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRfc3339Nano, nowRfc3339Nano, parseRfc3339Ns } from '../../lib/duration.js';
import { conflict, invalidArgument, notFound } from '../../lib/errors.js';
import { processAlive } from '../../sys/proc.js';
import { RecordStore } from '../../sys/store.js';
import { NameIndex, validName } from '../names.js';
import type { ContainerRecord } from './types.js';

type State = ContainerRecord['State'];

/** An RFC 3339 time (the monitor's, nine digits) as Go's RFC3339Nano writes it; undefined for none. */
export function goTime(t: string | undefined): string | undefined {
  const ns = t ? parseRfc3339Ns(t, false) : undefined;
  return ns === undefined ? undefined : formatRfc3339Nano(ns);
}

/**
 * How a container recorded as running ended, if it did: its monitor wrote how (the last line of
 * its status file), or its process is gone without a word (the monitor was killed, the host
 * restarted): exited. Undefined while it runs.
 */
export function endedState(statusFile: string, st: State): State | undefined {
  const told = (): State | undefined => {
    let ended: string | undefined;
    try {
      ended = readFileSync(statusFile, 'utf8').trim().split('\n').pop();
    } catch {
      ended = undefined;
    }
    const end = ended ? parseExitStatus(ended) : undefined;
    return end && { ...st, Status: 'exited', Paused: false, ExitCode: end.code, FinishedAt: goTime(end.finishedAt) ?? nowRfc3339Nano() };
  };
  const end = told();
  if (end) return end;
  if (!processAlive(st.Pid) && !(st.MonitorPid && processAlive(st.MonitorPid))) {
    // The monitor may have written how it ended and gone since the file was read.
    const late = told();
    if (late) return late;
    // Neither the process nor its monitor (which would have said how it ended) is there.
    return { ...st, Status: 'exited', Paused: false, ExitCode: st.ExitCode || 255, FinishedAt: st.FinishedAt || nowRfc3339Nano() };
  }
  return undefined;
}

export class ContainerStore {
  readonly records: RecordStore<ContainerRecord>;
  readonly names: NameIndex;

  constructor(
    root: string,
    private readonly statusFile: (id: string) => string,
    /** What goes once a container is seen to have ended (its runtime state, a host mount). */
    private readonly onEnded: (rec: ContainerRecord) => void,
  ) {
    this.records = new RecordStore<ContainerRecord>(join(root, 'metadata', 'containers'));
    this.names = new NameIndex(join(root, 'metadata', 'names'), (id) => this.records.has(id));
  }

  /** A running container's record as it is now: when its process ended, that is written. */
  private refresh(rec: ContainerRecord): ContainerRecord {
    if (rec.State.Status !== 'running') return rec;
    const ended = endedState(this.statusFile(rec.Id), rec.State);
    if (!ended) return rec;
    // Under the record's lock: not when it was removed meanwhile (rm, and a monitor's cleanup
    // reading it at the same time), nor over a later run of it (started again meanwhile).
    let wrote = false;
    const now = this.records.withLock(rec.Id, () => {
      const cur = this.records.get(rec.Id);
      if (!cur || cur.State.Status !== 'running' || cur.State.Pid !== rec.State.Pid) return cur;
      const next = { ...cur, State: ended };
      this.records.put(rec.Id, next);
      wrote = true;
      return next;
    });
    if (!now) return { ...rec, State: ended };
    if (wrote) this.onEnded(now);
    return now;
  }

  list(): ContainerRecord[] {
    return this.records
      .list()
      .map((r) => this.refresh(r))
      .sort((a, b) => b.Created.localeCompare(a.Created));
  }

  /** A record by id, refreshed; undefined when there is none. */
  read(id: string): ContainerRecord | undefined {
    let rec: ContainerRecord | undefined;
    try {
      rec = this.records.get(id);
    } catch {
      return undefined;
    }
    return rec && this.refresh(rec);
  }

  find(nameOrId: string): ContainerRecord {
    // A full id or a name: one file, not the whole list.
    const id = /^[0-9a-f]{64}$/.test(nameOrId) ? nameOrId : this.names.lookup(nameOrId);
    const direct = id !== undefined ? this.read(id) : undefined;
    if (direct && (direct.Id === nameOrId || direct.Name === nameOrId)) return direct;
    const all = this.list();
    const exact = all.find((r) => r.Name === nameOrId || r.Id === nameOrId);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(nameOrId) ? all.filter((r) => r.Id.startsWith(nameOrId)) : [];
    if (byPrefix.length > 1) throw invalidArgument(`container id prefix ${JSON.stringify(nameOrId)} is ambiguous`);
    if (!byPrefix[0]) throw notFound(`No such container: ${nameOrId}`);
    return byPrefix[0];
  }

  running(nameOrId: string): ContainerRecord {
    const rec = this.find(nameOrId);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
    return rec;
  }

  /** A new record (or one written whole). */
  put(rec: ContainerRecord): void {
    this.records.put(rec.Id, rec);
  }

  /** Changes the record under its lock; what was written, undefined when it was removed. */
  update(id: string, fn: (cur: ContainerRecord) => void): ContainerRecord | undefined {
    return this.records.update(id, fn);
  }

  /** Sets `fields` in `rec` and, under its lock, in the stored record (leaving what others wrote). */
  patch(rec: ContainerRecord, fields: Partial<ContainerRecord>): ContainerRecord | undefined {
    Object.assign(rec, fields);
    return this.update(rec.Id, (cur) => void Object.assign(cur, fields));
  }

  /** Removes the record (under its lock: a refresh at the same time cannot bring it back) and gives its name back. */
  remove(rec: ContainerRecord): void {
    let name = rec.Name;
    this.records.withLock(rec.Id, () => {
      try {
        name = this.records.get(rec.Id)?.Name ?? name; // renamed meanwhile
      } catch {
        /* not readable: the name it was found by */
      }
      this.records.delete(rec.Id);
    });
    this.names.release(name, rec.Id);
  }

  /** `rename`: the new name taken, the record changed under its lock, then the old name given back. */
  rename(nameOrId: string, name: string): void {
    const rec = this.find(nameOrId);
    // Docker's words (its daemon's rename).
    if (name === '') throw invalidArgument('Neither old nor new names may be empty');
    if (name.replace(/^\//, '') === rec.Name) throw invalidArgument('Renaming a container with the same name as its current name');
    if (!validName(name)) throw invalidArgument(`Error when allocating new name: Invalid container name (/${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const taken = this.list().find((c) => c.Name === name);
    if (taken) throw conflict(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${taken.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
    this.names.claim(name, rec.Id, 'rename');
    let old: string | undefined;
    const now = this.update(rec.Id, (cur) => {
      old = cur.Name;
      cur.Name = name;
    });
    if (!now) {
      this.names.release(name, rec.Id);
      throw notFound(`No such container: ${nameOrId}`);
    }
    if (old !== undefined && old !== name) this.names.release(old, rec.Id);
  }

  /** Whether a container (of any state) has this id. */
  exists(id: string): boolean {
    return this.records.has(id);
  }

  isRunning(id: string): boolean {
    try {
      return this.find(id).State.Status === 'running';
    } catch {
      return false;
    }
  }

  /** Image ids containers use (for rmi). */
  imagesInUse(): Map<string, string> {
    const m = new Map<string, string>();
    for (const c of this.list()) if (!m.has(c.ImageID)) m.set(c.ImageID, c.Id);
    return m;
  }

  /** Ids of the containers that mount a volume (as dockerd names them when it refuses to remove it). */
  volumeUsers(name: string): string[] {
    return this.list()
      .filter((c) => (c.Mounts ?? []).some((m) => m.Type === 'volume' && m.Name === name))
      .map((c) => c.Id);
  }
}
