import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BuildContext, FileHashCache, matchComponent } from './context.js';

describe('build context', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, string> = { 'a.txt': 'a', 'b.log': 'b', 'src/x.ts': 'x', 'src/y.log': 'y', 'src/deep/z.txt': 'z', 'keep/k.md': 'k', 'keep/skip.md': 's' };
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  symlinkSync('/etc/passwd', join(dir, 'out-link'));
  symlinkSync('a.txt', join(dir, 'in-link'));
  const open = (ignore?: string) => new BuildContext(dir, ignore, new FileHashCache(undefined));
  const rels = (c: BuildContext, src: string) => c.resolve(src).map((e) => e.rel);

  it("matches globs per path component with Go's rules", () => {
    assert.ok(matchComponent('*.txt', 'a.txt'));
    assert.ok(!matchComponent('*.txt', 'a.txts'));
    assert.ok(matchComponent('[ab].t?t', 'b.txt'));
    assert.ok(matchComponent('[^a].txt', 'b.txt') && !matchComponent('[^a].txt', 'a.txt'));
    const c = open();
    assert.deepEqual(rels(c, '*.txt'), ['a.txt']);
    assert.deepEqual(rels(c, 'src/*'), ['src/deep', 'src/x.ts', 'src/y.log']);
    assert.deepEqual(rels(c, '/src/*/z.txt'), ['src/deep/z.txt']);
  });

  it("applies .dockerignore with Docker's rules (root-relative patterns, ** and exceptions)", () => {
    const c = open('*.log\nkeep\n!keep/k.md\n**/z.txt\n');
    assert.deepEqual(rels(c, '*'), ['a.txt', 'in-link', 'keep', 'out-link', 'src']);
    assert.throws(() => c.resolve('b.log'), /file not found in build context or excluded by .dockerignore/);
    // *.log matches at the root only: src/y.log stays.
    const src = c.resolve('src')[0]!;
    assert.deepEqual(c.walk(src).map((e) => e.rel), ['src/deep', 'src/x.ts', 'src/y.log']);
    // keep/ is excluded but keep/k.md is brought back by the exception.
    assert.deepEqual(rels(c, 'keep/k.md'), ['keep/k.md']);
    assert.throws(() => c.resolve('keep/skip.md'), /excluded by .dockerignore/);
  });

  it('refuses paths and symlinks that lead outside the context, follows ones inside', () => {
    const c = open();
    assert.throws(() => c.resolve('../x'), /path outside the build context/);
    assert.throws(() => c.resolve('src/../../x'), /path outside the build context/);
    assert.throws(() => c.resolve('out-link'), /a symlink to "\/etc\/passwd", outside the build context/);
    const e = c.resolve('in-link')[0]!;
    assert.ok(e.st.isFile());
  });

  it('digests contents and modes, not times, and reads a file once with the hash cache', () => {
    const cacheFile = join(dir, '..', `hash-${Date.now()}.json`);
    after(() => rmSync(cacheFile, { force: true }));
    const h = new FileHashCache(cacheFile);
    const c = new BuildContext(dir, undefined, h);
    const d1 = c.digestSources(c.resolve('src'));
    const reads = h.reads;
    assert.equal(c.digestSources(c.resolve('src')), d1);
    assert.ok(h.reads === reads || h.reads === reads * 2, 'at most once more (files younger than the racy window are hashed again)');
    writeFileSync(join(dir, 'src/x.ts'), 'changed');
    assert.notEqual(c.digestSources(c.resolve('src')), d1);
  });

  it('keeps a small file read for its hash for the copy that follows, once, and only while unchanged', () => {
    const f = join(dir, 'kept.txt');
    writeFileSync(f, 'kept content');
    const h = new FileHashCache(undefined);
    const st = lstatSync(f);
    h.digest(f, st);
    assert.equal(h.take(f, st)?.toString(), 'kept content');
    assert.equal(h.take(f, st), undefined, 'given once');
    h.digest(f, st);
    writeFileSync(f, 'changed content!');
    assert.equal(h.take(f, lstatSync(f)), undefined, 'not when the file changed since');
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(FileHashCache.KEEP_FILE_MAX + 1));
    const bst = lstatSync(big);
    h.digest(big, bst);
    assert.equal(h.take(big, bst), undefined, 'big files are read again, not kept');
    rmSync(big);
    rmSync(f);
  });
});
