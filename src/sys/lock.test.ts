import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { withLock } from './lock.js';

test('withLock: processes incrementing one counter under the lock lose no update; a dead owner\'s lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  try {
    const counter = join(dir, 'n');
    const lock = join(dir, 'lock');
    writeFileSync(counter, '0');
    const mod = pathToFileURL(join(import.meta.dirname, 'lock.js')).href;
    const script = `import { withLock } from ${JSON.stringify(mod)}; import { readFileSync, writeFileSync } from 'node:fs';
      for (let i = 0; i < 40; i++) withLock(${JSON.stringify(lock)}, () => { const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')); writeFileSync(${JSON.stringify(counter)}, String(n + 1)); });`;
    await Promise.all(
      Array.from({ length: 4 }, () => new Promise<void>((res, rej) => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`exit ${c}`)))))),
    );
    assert.equal(readFileSync(counter, 'utf8'), '160');
    // A lock file left by a process that is gone (pid 2^22 + 1 is above pid_max's default).
    writeFileSync(lock, `${2 ** 22 + 1} 1\n`);
    assert.equal(withLock(lock, () => 'taken', 2000), 'taken');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
