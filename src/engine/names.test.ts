import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { NameIndex } from './names.js';

const mod = pathToFileURL(join(import.meta.dirname, 'names.js')).href;

test('NameIndex: processes claiming the same names at the same instants get each name once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-names-'));
  const procs: ChildProcess[] = [];
  // A deadline for a hang (a child stuck at the barrier), not a speed limit.
  const deadline = setTimeout(() => {
    for (const p of procs) p.kill('SIGKILL');
  }, 120_000);
  try {
    const names = join(dir, 'names');
    const rounds = 120;
    // A barrier per round: each process says "ready" on stdout and blocks reading one byte from
    // stdin; once all are ready the parent writes that byte to each, and they claim name r at once.
    const script = `import { NameIndex } from ${JSON.stringify(mod)};
      import { readSync, writeSync } from 'node:fs';
      const idx = new NameIndex(${JSON.stringify(names)}, () => false);
      const won = [];
      const go = Buffer.alloc(1);
      for (let r = 0; r < ${rounds}; r++) {
        writeSync(1, 'ready\\n');
        if (readSync(0, go, 0, 1, null) !== 1) throw new Error('the barrier was closed in round ' + r);
        try { idx.claim('n' + r, 'id' + process.pid, 'container'); won.push(r); } catch (e) { if (!/already in use|being taken/.test(e.message)) throw e; }
      }
      writeSync(1, JSON.stringify(won) + '\\n');`;
    const n = 4;
    const ready = new Array<number>(n).fill(0);
    let released = 0;
    const release = () => {
      while (released < rounds && ready.every((k) => k > released)) {
        released++;
        for (const p of procs) p.stdin!.write('g');
      }
    };
    const outs = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
        procs.push(p);
        p.stdin!.on('error', () => {}); // a claimer that died is reported by its exit below
        let out = '';
        p.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          ready[i] = out.split('ready\n').length - 1;
          release();
        });
        return new Promise<number[]>((res, rej) =>
          p.on('exit', (code, sig) => {
            const last = out.split('ready\n').pop()!.trim();
            if (code === 0 && last) res(JSON.parse(last) as number[]);
            else rej(new Error(`claimer ${i} ended with ${sig ?? code} after ${ready[i]} rounds${sig === 'SIGKILL' ? ' (stuck: killed at the deadline)' : ''}`));
          }),
        );
      }),
    );
    assert.equal(released, rounds);
    const won = outs.flat().sort((a, b) => a - b);
    assert.deepEqual(won, Array.from({ length: rounds }, (_, r) => r), 'each name claimed exactly once');
  } finally {
    clearTimeout(deadline);
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NameIndex: a claim whose creator is gone is taken over, an empty one left by a crash too once it is old', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-names-'));
  try {
    const idx = new NameIndex(join(dir, 'names'), (id) => id === 'live');
    idx.claim('a', 'live', 'container');
    assert.throws(() => idx.claim('a', 'other', 'container'), /The container name "\/a" is already in use by container "live"/);
    writeFileSync(join(dir, 'names', 'b'), 'ghost\n999999999\n');
    idx.claim('b', 'mine', 'container');
    assert.equal(idx.lookup('b'), 'mine');
    writeFileSync(join(dir, 'names', 'c'), '');
    assert.throws(() => idx.claim('c', 'mine', 'container'), /being taken by another berth process/, 'a fresh empty claim is someone writing it');
    utimesSync(join(dir, 'names', 'c'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    idx.claim('c', 'mine', 'container');
    assert.equal(idx.lookup('c'), 'mine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
