/**
 * Garbage collection beside imports: `image prune` (and the gc of `rmi`) run while `load`,
 * `import`, `commit` and `build` store blobs and layers that no record names yet. They hold the
 * root's gc lock (shared by the importers, alone by the sweep), so every import ends whole and
 * runs, and the store stays consistent, however the two interleave.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;
const ROUNDS = 8;

describe('gc beside load, import, commit and build', { skip }, () => {
  const dir = tmp('berth-gcrace-');
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
  const berth = (...args: string[]) => spawnSync(bin, [...base, ...args], { encoding: 'utf8', timeout: 120_000 });
  const ok = (...args: string[]) => {
    const r = berth(...args);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const start = (args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      const p = spawn(bin, [...base, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.once('exit', (code) => resolve({ code: code ?? -1, stderr }));
    });
  /** Prunes and removals of a throwaway image, over and over, while `work` runs. */
  const pruning = async <T>(work: Promise<T>): Promise<T> => {
    let done = false;
    const loops = [0, 1].map(async () => {
      for (let i = 0; i < 200 && !done; i++) {
        const r = await start(['image', 'prune', '-f']);
        assert.equal(r.code, 0, r.stderr);
      }
    });
    try {
      return await work;
    } finally {
      done = true;
      await Promise.all(loops);
    }
  };
  const assertConsistent = () => {
    const blobs = join(dir, 'root', 'content', 'blobs', 'sha256');
    for (const name of readdirSync(blobs)) assert.equal(createHash('sha256').update(readFileSync(join(blobs, name))).digest('hex'), name, `blob ${name}`);
  };

  before(() => {
    ok('starter');
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx, { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(ctx, `f${i}.bin`), Buffer.alloc(4 << 20, i + 1));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY f0.bin /f0.bin\nCOPY f1.bin /f1.bin\nCOPY f2.bin /f2.bin\nCOPY f3.bin /f3.bin\n');
    ok('build', '-q', '-t', 'big:1', ctx);
    ok('save', '-o', join(dir, 'big.tar'), 'big:1');
    ok('export', '-o', join(dir, 'fs.tar'), ok('create', 'big:1', 'true').trim());
  });
  after(() => {
    for (const id of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('load: every load ends whole and runs, with prunes beside it', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      berth('rmi', '-f', 'big:1');
      ok('image', 'prune', '-f');
      const r = await pruning(start(['load', '-i', join(dir, 'big.tar')]));
      assert.equal(r.code, 0, `load ${i}: ${r.stderr}`);
      assert.equal(ok('run', '--rm', '--network', 'none', 'big:1', 'sh', '-c', 'cat /f*.bin | wc -c').trim(), String(16 << 20));
      assertConsistent();
    }
  });

  it('import, commit and build: each ends whole and runs, with prunes beside it', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const imp = await pruning(start(['import', join(dir, 'fs.tar'), `imported:${i}`]));
      assert.equal(imp.code, 0, `import ${i}: ${imp.stderr}`);
      assert.equal(ok('run', '--rm', '--network', 'none', `imported:${i}`, '/bin/sh', '-c', 'cat /f3.bin | wc -c').trim(), String(4 << 20));
      const c = ok('create', '--network', 'none', 'busybox', 'sh', '-c', `head -c 3000000 /dev/zero > /z${i}`).trim();
      ok('start', '-a', c);
      const com = await pruning(start(['commit', c, `committed:${i}`]));
      assert.equal(com.code, 0, `commit ${i}: ${com.stderr}`);
      assert.equal(ok('run', '--rm', '--network', 'none', `committed:${i}`, 'sh', '-c', `wc -c < /z${i}`).trim(), '3000000');
      ok('rm', c);
      const ctx = join(dir, `bctx${i}`);
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox\nRUN head -c 2000000 /dev/zero > /b${i}\n`);
      const b = await pruning(start(['build', '-q', '--network', 'none', '-t', `built:${i}`, ctx]));
      assert.equal(b.code, 0, `build ${i}: ${b.stderr}`);
      assert.equal(ok('run', '--rm', '--network', 'none', `built:${i}`, 'sh', '-c', `wc -c < /b${i}`).trim(), '2000000');
      assertConsistent();
    }
  });
});
