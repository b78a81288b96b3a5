/**
 * The entry points of berth's file work on trees a container controls, beyond cp and export
 * (test/e2e/cp-rooted.test.ts): `commit` and `diff` reading a container's changes, COPY --from a
 * stage whose RUN planted links, `--volumes-from`; and `system reset`, which must never remove a
 * directory that is not a berth root. A host sentinel directory and secret are compared before
 * and after each, and the secret's text never appears in what berth produces.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;
const SECRET = 'host-secret-77d0e4';

/** Every name and content below a directory (links as their targets), to compare before and after. */
function treeState(dir: string): string {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out.push(`${rel} -> link`);
    else if (st.isDirectory()) {
      out.push(`${rel}/ ${(st.mode & 0o7777).toString(8)}`);
      for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
    } else out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${readFileSync(p, 'latin1')}`);
  };
  walk(dir, '');
  return out.join('\n');
}

describe('system reset refuses a directory that is not a berth root', { skip }, () => {
  const dir = tmp('berth-resetguard-');
  const reset = (root: string, runroot = join(dir, 'run')) => spawnSync(bin, ['--root', root, '--runroot', runroot, 'system', 'reset', '-f'], { encoding: 'utf8', timeout: 60_000 });
  after(() => cleanupTmp());

  it('an empty directory, one with unrelated files, a file: refused, nothing in them removed', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const unrelated = join(dir, 'unrelated');
    mkdirSync(join(unrelated, 'photos'), { recursive: true });
    writeFileSync(join(unrelated, 'photos', 'cat.jpg'), 'meow');
    writeFileSync(join(unrelated, 'notes.txt'), 'keep me');
    // Looks like a berth root in part (berth's own directory names), but holds a file of its own.
    const mixed = join(dir, 'mixed');
    mkdirSync(join(mixed, 'metadata'), { recursive: true });
    mkdirSync(join(mixed, 'content'));
    writeFileSync(join(mixed, 'metadata', 'x'), 'x');
    writeFileSync(join(mixed, 'thesis.tex'), 'years of work');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const state0 = treeState(dir);
    for (const [root, why] of [
      [empty, /it is empty/],
      [unrelated, /it holds "notes\.txt", "photos", which berth did not make/],
      [mixed, /it holds "thesis\.tex", which berth did not make/],
      [file, /it is not a directory/],
    ] as const) {
      const r = reset(root);
      assert.notEqual(r.status, 0, `reset of ${root} succeeded`);
      assert.match(r.stderr, new RegExp(`system reset: the root "${root}" is not one berth would remove: ${why.source}`));
    }
    assert.equal(treeState(dir), state0, 'something was removed or changed');
  });

  it('a run root holding files of other tools: refused before anything of the root is removed', () => {
    const root = join(dir, 'realroot');
    const runroot = join(dir, 'sharedrun');
    mkdirSync(join(runroot, 'other-tool'), { recursive: true });
    writeFileSync(join(runroot, 'other-tool', 'pid'), '1');
    const ok = spawnSync(bin, ['--root', root, '--runroot', runroot, 'volume', 'create', 'keepvol'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const state0 = treeState(dir);
    const r = reset(root, runroot);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the run root ".*sharedrun" is not one berth would remove: it holds "other-tool"/);
    assert.equal(treeState(dir), state0);
    // With its own run root, the same root is reset.
    const r2 = reset(root, join(dir, 'ownrun'));
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(!existsSync(root));
    assert.ok(existsSync(join(runroot, 'other-tool', 'pid')));
  });
});
