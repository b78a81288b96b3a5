import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { withLock } from './lock.js';

const mod = pathToFileURL(join(import.meta.dirname, 'lock.js')).href;

type Child = ChildProcess & { done: Promise<number | null> };
const started: Child[] = [];

function node(script: string): Child {
  const p = spawn(process.execPath, ['--input-type=module', '-e', `import { withLock } from ${JSON.stringify(mod)}; import { readFileSync, writeFileSync } from 'node:fs';\n${script}`], { stdio: 'inherit' });
  const r = Object.assign(p, { done: new Promise<number | null>((res) => p.on('exit', (c) => res(c))) });
  started.push(r);
  return r;
}

// The timeout is a deadline for a hang (a worker stuck on the lock), not a speed limit.
test('withLock: processes incrementing one counter under the lock lose no update, while owners die holding it; a dead owner\'s lock is taken over', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  try {
    const counter = join(dir, 'n');
    const lock = join(dir, 'lock');
    writeFileSync(counter, '0');
    const inc = `() => { const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')); writeFileSync(${JSON.stringify(counter)}, String(n + 1)); }`;
    const workers = Array.from({ length: 6 }, () => node(`for (let i = 0; i < 60; i++) withLock(${JSON.stringify(lock)}, ${inc});`));
    // Processes that take the lock and are killed holding it: the others must take it over.
    const victims = Array.from({ length: 3 }, () => node(`withLock(${JSON.stringify(lock)}, () => { writeFileSync(${JSON.stringify(lock + '.held')}, String(process.pid)); setInterval(() => {}, 1000); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); });`));
    // Whichever victim holds the lock is killed, until all three are; with a deadline for a hang
    // (no victim ever taking the lock), not a speed limit.
    const killed = new Set<number>();
    const deadline = Date.now() + 120_000;
    while (killed.size < victims.length) {
      if (Date.now() > deadline) {
        assert.fail(`only ${killed.size} of ${victims.length} victims were seen holding the lock within 120 s`);
      }
      const held = existsSync(lock + '.held') ? Number(readFileSync(lock + '.held', 'utf8')) : 0;
      const v = victims.find((p) => p.pid === held);
      if (v && !killed.has(held)) {
        v.kill('SIGKILL');
        killed.add(held);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(await Promise.all(victims.map((v) => v.done)), [null, null, null], 'each victim was killed holding the lock');
    const codes = await Promise.all(workers.map((w) => w.done));
    assert.deepEqual(codes, workers.map(() => 0));
    assert.equal(readFileSync(counter, 'utf8'), '360');
    // A lock file left by a process that is gone (pid 2^22 + 1 is above pid_max's default).
    writeFileSync(lock, `${2 ** 22 + 1} 1\n`);
    assert.equal(withLock(lock, () => 'taken', 2000), 'taken');
    // So is a break marker left by a breaker that died.
    writeFileSync(lock, `${2 ** 22 + 1} 1\n`);
    writeFileSync(lock + '.break', `${2 ** 22 + 2} 1\n`);
    assert.equal(withLock(lock, () => 'taken', 2000), 'taken');
    rmSync(lock + '.held');
    assert.deepEqual(readdirSync(dir).sort(), ['n'], 'no lock, marker or temporary file is left');
  } finally {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
