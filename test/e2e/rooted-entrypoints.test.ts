/**
 * The entry points of berth's file work on trees a container controls, beyond cp and export
 * (test/e2e/cp-rooted.test.ts): `commit` and `diff` reading a container's changes, COPY --from a
 * stage whose RUN planted links, `--volumes-from`; and `system reset`, which must never remove a
 * directory that is not a berth root. A host sentinel directory and secret are compared before
 * and after each, and the secret's text never appears in what berth produces.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { berthBin as bin, berthOn, plantLinks } from '../planted-links.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

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
  after(() => rmSync(dir, { recursive: true, force: true }));

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

describe('commit, diff, COPY --from and --volumes-from against containers and stages that plant links to the host', { skip }, () => {
  const dir = tmp('berth-entry-');
  const hostDir = join(dir, 'host-sentinel');
  const secret = join(dir, 'host-secret.txt');
  const { berth, ok } = berthOn(dir, 180_000);
  const hostState = () => `${treeState(hostDir)}\n${treeState(secret)}`;
  /** The entries of every layer of an image, listed by the host's tar from `save`. */
  const layerListing = (image: string) => {
    const saved = ok(['save', image]);
    assert.ok(!saved.includes(Buffer.from(SECRET)), `the secret is in ${image}'s layers`);
    const x = join(dir, `saved-${image.replace(/[^a-z0-9]/g, '_')}`);
    mkdirSync(x, { recursive: true });
    spawnSync('tar', ['-C', x, '-xf', '-'], { input: saved });
    const index = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    return index[0]!.Layers.map((l) => spawnSync('tar', ['-tvf', join(x, l)], { encoding: 'utf8' }).stdout).join('');
  };
  let state0 = '';
  const PLANT = plantLinks(hostDir, secret);

  before(() => {
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'keep-77d0e4'), `${SECRET} in the directory\n`);
    writeFileSync(secret, `${SECRET}\n`);
    state0 = hostState();
    ok(['starter']);
    ok(['run', '-d', '--network', 'none', '--name', 'box', 'busybox', 'sh', '-c', `${PLANT} && sleep 600`]);
    for (let i = 0; i < 100 && berth(['exec', 'box', 'test', '-f', '/evil/plain']).status !== 0; i++) spawnSync('sleep', ['0.1']);
  });
  after(() => {
    berth(['rm', '-f', 'box', 'flipper', 'vols', 'reader']);
    berth(['system', 'reset', '-f']);
    cleanupTmp();
  });

  it('diff lists the planted links as added, nothing of the host directory', () => {
    const out = ok(['diff', 'box']).toString();
    for (const p of ['/evil', '/evil/abs', '/evil/rel', '/evil/chain', '/evil/secret-abs', '/evil/sub/secret-rel', '/evil/plain']) assert.match(out, new RegExp(`^A ${p}$`, 'm'), out);
    assert.doesNotMatch(out, /keep-77d0e4/);
    assert.equal(hostState(), state0);
  });

  it('commit: the layer holds the links as links, never the host files they name', () => {
    ok(['commit', 'box', 'committed:1']);
    const list = layerListing('committed:1');
    assert.match(list, new RegExp(`evil/abs -> ${hostDir}`));
    assert.match(list, /evil\/chain -> \/evil\/abs/);
    assert.match(list, new RegExp(`evil/sub/secret-rel -> \\.\\./.*${secret.replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(list, /keep-77d0e4/);
    assert.equal(hostState(), state0);
  });

  it('diff and commit while the container swaps a directory for a link to the host: nothing of the host is read', () => {
    // /race/d flips between a directory (holding one file) and a link to the host directory.
    ok(['run', '-d', '--network', 'none', '--name', 'flipper', 'busybox', 'sh', '-c', `mkdir -p /race/d; echo mine > /race/d/own; while :; do mv /race/d /race/d.dir; ln -s ${hostDir} /race/d; rm /race/d; mv /race/d.dir /race/d; done`]);
    for (let i = 0; i < 30; i++) {
      const r = berth(['diff', 'flipper']);
      // A live container's changes: read without failing (GNU tar gave up on a vanished name here).
      assert.equal(r.status, 0, r.stderr.toString());
      assert.doesNotMatch(r.stdout.toString(), /keep-77d0e4/, 'diff listed the host directory');
    }
    for (let i = 0; i < 5; i++) {
      const r = berth(['commit', 'flipper', `raced:${i}`]);
      if (r.status === 0) assert.doesNotMatch(layerListing(`raced:${i}`), /keep-77d0e4/, 'the host directory is in the layer');
    }
    assert.equal(hostState(), state0, 'the race changed the host');
  });

  it('COPY --from a stage whose RUN planted links: links copied as links, paths through them resolved inside the stage', () => {
    const ctx = join(dir, 'copyctx');
    mkdirSync(ctx);
    // Stage 0 plants links to the host sentinel; the same path inside the stage holds its own file.
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox',
        `RUN mkdir -p /data ${hostDir} && echo stage-own > ${hostDir}/keep-77d0e4 && ln -s ${hostDir} /x && ln -s ${hostDir} /data/abs && ln -s ../../../../..${secret} /data/secret-rel && echo plain > /data/plain`,
        'FROM busybox',
        // The destination stage plants a link too: COPY writes through it inside the stage only.
        `RUN ln -s ${hostDir} /dst`,
        'COPY --from=0 /x /y',
        'COPY --from=0 /x/keep-77d0e4 /z',
        'COPY --from=0 /data /d',
        'COPY --from=0 /data/plain /dst/',
      ].join('\n') + '\n',
    );
    ok(['build', '-q', '--network', 'none', '-t', 'copied:1', ctx]);
    assert.equal(hostState(), state0, 'COPY changed the host');
    const out = ok(['run', '--rm', '--network', 'none', 'copied:1', 'sh', '-c', `cat /y/keep-77d0e4 /z; readlink /d/abs; readlink /d/secret-rel; cat /d/plain ${hostDir}/plain; test -L /dst && echo dst-is-a-link`]).toString();
    assert.equal(out, `stage-own\nstage-own\n${hostDir}\n../../../../..${secret}\nplain\nplain\ndst-is-a-link\n`);
    // The secret's text is in no layer (layerListing checks); the links are there as links.
    const list = layerListing('copied:1');
    assert.match(list, new RegExp(`^l.* d/abs -> ${hostDir}$`, 'm'));
  });

  it('COPY --from a path through a planted link that the stage lacks: not found, the host file is not read', () => {
    const ctx = join(dir, 'copyctx2');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox\nRUN ln -s ${hostDir} /x && ln -s ${secret} /sec\nFROM busybox\nCOPY --from=0 /x/keep-77d0e4 /z\n`);
    const r = berth(['build', '-q', '--network', 'none', '-t', 'copied:2', ctx]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString(), /COPY --from=0 "\/x\/keep-77d0e4": file not found in stage or image "0"/);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox\nRUN ln -s ${hostDir} /x && ln -s ${secret} /sec\nFROM busybox\nCOPY --from=0 /sec /z\n`);
    const r2 = berth(['build', '-q', '--network', 'none', '-t', 'copied:3', ctx]);
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr.toString(), /COPY --from=0 "\/sec": file not found in stage or image "0"/);
    assert.ok(!r.stderr.includes(Buffer.from(SECRET)) && !r2.stderr.includes(Buffer.from(SECRET)));
    assert.equal(hostState(), state0);
  });

  it('--volumes-from a container whose volume holds planted links: the links stay links, nothing reaches the host', () => {
    // The volume is seeded from the image's /evil (links to the host) and planted into further.
    ok(['run', '-d', '--network', 'none', '--name', 'vols', '-v', '/evil', 'committed:1', 'sh', '-c', `ln -s ${hostDir} /evil/more && sleep 600`]);
    for (let i = 0; i < 100 && berth(['exec', 'vols', 'test', '-L', '/evil/more']).status !== 0; i++) spawnSync('sleep', ['0.1']);
    ok(['run', '-d', '--network', 'none', '--name', 'reader', '--volumes-from', 'vols', 'busybox', 'sh', '-c', 'echo written > /evil/abs/dropped 2>/dev/null; echo via > /evil/more/dropped 2>/dev/null; sleep 600']);
    const ls = ok(['exec', 'reader', 'sh', '-c', 'ls -la /evil; cat /evil/secret-abs 2>&1; true']).toString();
    assert.match(ls, new RegExp(`abs -> ${hostDir}`));
    assert.match(ls, new RegExp(`more -> ${hostDir}`));
    assert.ok(!ls.includes(SECRET), ls);
    // cp out of the shared volume (berth's cp reads the container's root file system, not its
    // volumes: the volume's mount point comes out empty) and commit of the reader: nothing of the host.
    assert.ok(!ok(['cp', 'reader:/evil', '-']).includes(Buffer.from(SECRET)));
    ok(['commit', 'reader', 'reader:1']);
    layerListing('reader:1');
    assert.equal(hostState(), state0, 'a write through the shared volume reached the host');
  });
});
