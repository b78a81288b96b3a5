import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { RecordStore } from './store.js';

const mod = pathToFileURL(join(import.meta.dirname, 'store.js')).href;

/** A node process with the store module loaded as `RecordStore`; its stdout collected. */
function node(script: string) {
  const p = spawn(process.execPath, ['--input-type=module', '-e', `import { RecordStore } from ${JSON.stringify(mod)};\n${script}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise<{ code: number | null; out: string }>((res) => p.on('exit', (code) => res({ code, out })));
}

interface Rec {
  id: string;
  total: number;
  byWorker: Record<string, number>;
  log: string[];
}

test('RecordStore: put, get, list, has, remove; records keep their files; a missing one is undefined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  try {
    const s = new RecordStore<{ n: number }>(join(dir, 'recs'));
    assert.deepEqual(s.list(), [], 'no directory: no records');
    assert.equal(s.get('a'), undefined);
    s.put('a', { n: 1 });
    s.put('b', { n: 2 });
    writeFileSync(join(dir, 'recs', 'note.txt'), 'not a record');
    assert.deepEqual(s.get('a'), { n: 1 });
    assert.equal(s.path('a'), join(dir, 'recs', 'a.json'));
    assert.deepEqual(s.ids().sort(), ['a', 'b']);
    assert.deepEqual(s.list().map((r) => r.n).sort(), [1, 2]);
    assert.equal(s.update('a', (r) => void (r.n = 10))?.n, 10);
    assert.deepEqual(s.get('a'), { n: 10 });
    assert.equal(s.update('zz', () => ({ n: 3 })), undefined, 'no record, no update');
    assert.equal(s.has('zz'), false, 'and none made');
    assert.throws(() => s.update('a', () => { throw new Error('no'); }), /no/);
    assert.deepEqual(s.get('a'), { n: 10 }, 'a failed change writes nothing');
    s.remove('b');
    assert.equal(s.has('b'), false);
    assert.equal(s.create('a', { n: 0 }), false, 'create does not replace');
    assert.equal(s.create('c', { n: 5 }), true);
    assert.deepEqual(s.get('c'), { n: 5 });
    assert.deepEqual(readdirSync(join(dir, 'recs')).sort(), ['a.json', 'c.json', 'note.txt'], 'no lock or temporary file is left');
    // Another layout: a directory per record, plain text.
    const t = new RecordStore<string>(join(dir, 'vols'), { file: (id) => join(id, 'rec'), idOf: (e) => e, codec: { encode: (v) => v, decode: (x) => x } });
    t.put('v1', 'one');
    assert.equal(readdirSync(join(dir, 'vols', 'v1')).join(), 'rec');
    assert.deepEqual(t.list(), ['one']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RecordStore.update: processes changing one record at once lose no update; create: one winner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  try {
    const s = new RecordStore<Rec>(dir);
    s.put('c', { id: 'c', total: 0, byWorker: {}, log: [] });
    const N = 6;
    const K = 40;
    const workers = Array.from({ length: N }, (_, w) =>
      node(`const s = new RecordStore(${JSON.stringify(dir)});
for (let i = 0; i < ${K}; i++) s.update('c', (r) => { r.total++; r.byWorker['w${w}'] = (r.byWorker['w${w}'] ?? 0) + 1; r.log.push('w${w}:' + i); });
// Readers meanwhile always see a whole record.
for (let i = 0; i < 20; i++) if (typeof s.get('c').total !== 'number') process.exit(3);
process.stdout.write(String(s.create('once', { id: 'w${w}', total: 0, byWorker: {}, log: [] })));`),
    );
    const results = await Promise.all(workers);
    assert.deepEqual(results.map((r) => r.code), workers.map(() => 0));
    const r = s.get('c')!;
    assert.equal(r.total, N * K);
    assert.deepEqual(r.byWorker, Object.fromEntries(Array.from({ length: N }, (_, w) => [`w${w}`, K])));
    assert.equal(new Set(r.log).size, N * K, "every process's every change is in the record");
    for (let w = 0; w < N; w++) {
      const mine = r.log.filter((l) => l.startsWith(`w${w}:`));
      assert.deepEqual(mine, Array.from({ length: K }, (_, i) => `w${w}:${i}`), "in each process's order");
    }
    assert.equal(results.filter((x) => x.out === 'true').length, 1, 'exactly one process created the record');
    assert.equal(s.get('once')!.id, `w${results.findIndex((x) => x.out === 'true')}`);
    assert.deepEqual(readdirSync(dir).sort(), ['c.json', 'once.json'], 'no lock or temporary file is left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
