/** `logs`: a detached container's log (JSON lines), read once or followed. */
import { readFileSync } from 'node:fs';
import { parseRfc3339Ns } from '../../lib/duration.js';
import { invalidArgument } from '../../lib/errors.js';
import type { LogRecord } from './types.js';

export interface LogsOptions {
  follow?: boolean;
  /** The last N lines only (negative: all), as Docker's `tail`. */
  tail?: number;
  /** Records from this time on (nanoseconds since the epoch; 0: all). */
  since?: bigint;
  /** Records up to this time (nanoseconds since the epoch); following ends there. */
  until?: bigint;
}

/** What readLogs needs of the service: a record by name or id. */
interface Finder {
  find(nameOrId: string): { Id: string; Name: string; LogPath?: string; State: { Status: string } };
}

/** A record's time in nanoseconds since the epoch. */
export function logTimeNs(r: LogRecord): bigint {
  return parseRfc3339Ns(r.time, false) ?? 0n;
}

/**
 * The log's records, as Docker's json-file reader gives them: the last `tail` lines of what is
 * there, then those from `since` and not after `until`; with `follow`, what comes until the
 * container stops (or `until` is passed).
 */
export async function* readLogs(svc: Finder, nameOrId: string, o: LogsOptions = {}): AsyncGenerator<LogRecord> {
  const rec = svc.find(nameOrId);
  if (!rec.LogPath) {
    if (rec.State.Status === 'created') return; // never ran: nothing written yet
    throw invalidArgument(`container ${rec.Name}: no log (it ran in the foreground)`);
  }
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
    if (first && o.tail !== undefined && o.tail >= 0) records = records.slice(Math.max(0, records.length - o.tail));
    first = false;
    for (const r of records) {
      const t = logTimeNs(r);
      if (o.since !== undefined && t < o.since) continue;
      if (o.until !== undefined && t > o.until) return;
      yield r;
    }
    if (!o.follow) return;
    if (o.until !== undefined && BigInt(Date.now()) * 1_000_000n > o.until) return;
    if (svc.find(rec.Id).State.Status !== 'running') {
      if (text === '') return;
      continue;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
