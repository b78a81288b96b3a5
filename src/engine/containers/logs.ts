/** `logs`: a detached container's log (JSON lines), read once or followed. */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../../lib/errors.js';
import type { LogRecord } from './types.js';

export interface LogsOptions {
  follow?: boolean;
  tail?: number;
  since?: number; // ms since the epoch
}

/** What readLogs needs of the service: a record by name or id. */
interface Finder {
  find(nameOrId: string): { Id: string; Name: string; LogPath?: string; State: { Status: string } };
}

export async function* readLogs(svc: Finder, nameOrId: string, o: LogsOptions = {}): AsyncGenerator<LogRecord> {
  const rec = svc.find(nameOrId);
  if (!rec.LogPath) throw invalidArgument(`container ${rec.Name}: no log (it ran in the foreground)`);
  let offset = 0;
  let first = true;
  let partial = '';
  for (;;) {
    let text = '';
    try {
      const buf = readFileSync(rec.LogPath);
      text = buf.subarray(offset).toString('utf8');
      offset = buf.length;
    } catch {
      text = '';
    }
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    let records = lines.filter(Boolean).map((l) => JSON.parse(l) as LogRecord);
    if (o.since !== undefined) records = records.filter((r) => Date.parse(r.time) >= o.since!);
    if (first && o.tail !== undefined && o.tail >= 0) records = records.slice(Math.max(0, records.length - o.tail));
    first = false;
    for (const r of records) yield r;
    if (!o.follow) return;
    if (svc.find(rec.Id).State.Status !== 'running') {
      if (text === '') return;
      continue;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
