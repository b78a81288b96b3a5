import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { NameIndex } from './names.js';

const mod = pathToFileURL(join(import.meta.dirname, 'names.js')).href;

test('NameIndex: processes claiming the same names at the same instants get each name once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-names-'));
  try {
    const names = join(dir, 'names');
    const rounds = 120;
    const at = Date.now() + 1500; // all start together, then claim name r at at + 10 r
    const script = `import { NameIndex } from ${JSON.stringify(mod)};
      const idx = new NameIndex(${JSON.stringify(names)}, () => false);
      const won = [];
      for (let r = 0; r < ${rounds}; r++) {
        while (Date.now() < ${at} + r * 10) {}
        try { idx.claim('n' + r, 'id' + process.pid, 'container'); won.push(r); } catch (e) { if (!/already in use|being taken/.test(e.message)) throw e; }
      }
      console.log(JSON.stringify(won));`;
    const outs = await Promise.all(
      Array.from({ length: 4 }, () => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        return new Promise<number[]>((res) => p.on('exit', () => res(JSON.parse(out || '[]') as number[])));
      }),
    );
    const won = outs.flat().sort((a, b) => a - b);
    assert.deepEqual(won, Array.from({ length: rounds }, (_, r) => r), 'each name claimed exactly once');
  } finally {
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
