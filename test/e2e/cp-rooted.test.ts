/**
 * A container cannot make berth read or write the host's files (the class of Docker's
 * CVE-2018-15664 and CVE-2019-14271): it plants absolute and relative symlinks, chains and `..`
 * parents pointing at a sentinel directory and a secret file of the host, and swaps a directory
 * for such a link in a loop while berth copies; `cp` in and out (a file, a directory, a tar
 * stream), `export`, volume seeding and `commit` go through the rooted layer. The sentinel and the
 * secret are compared before and after, and the secret's text never appears in what comes out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { berthOn, plantLinks } from '../planted-links.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;
const SECRET = 'host-secret-3f9c1b';

describe('cp, export, volume seeding and commit against a container that plants links to the host', { skip }, () => {
  const dir = tmp('berth-cpsafe-');
  const hostDir = join(dir, 'host-sentinel');
  const secret = join(dir, 'host-secret.txt');
  const { berth, ok } = berthOn(dir);
  const hostState = () => JSON.stringify({ dir: readdirSync(hostDir).sort(), secret: readFileSync(secret, 'utf8') });
  let before0 = '';
  // Every kind of link a container can plant, in /evil, all pointing at the host's files.
  const PLANT = plantLinks(hostDir, secret);

  before(() => {
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'keep'), 'untouched\n');
    writeFileSync(secret, `${SECRET}\n`);
    before0 = hostState();
    ok(['starter']);
    ok(['run', '-d', '--network', 'none', '--name', 'box', 'busybox', 'sh', '-c', `${PLANT} && sleep 600`]);
    for (let i = 0; i < 100 && berth(['exec', 'box', 'test', '-f', '/evil/plain']).status !== 0; i++) spawnSync('sleep', ['0.1']);
  });
  after(() => {
    berth(['rm', '-f', 'box', 'seeded', 'flipper']);
    berth(['system', 'reset', '-f']);
    cleanupTmp();
  });

  it('cp - into a planted link: a tar stream lands inside the container, not in the host directory', () => {
    const src = join(dir, 'tarsrc');
    for (const via of ['abs', 'rel', 'chain']) {
      mkdirSync(join(src, via), { recursive: true });
      writeFileSync(join(src, via, 'dropped'), 'from the tar\n');
    }
    const tarball = spawnSync('tar', ['-C', src, '-c', 'abs/dropped', 'rel/dropped', 'chain/dropped']).stdout;
    // The archive's names go through the container's links /evil/abs, /evil/rel, /evil/chain.
    const r = berth(['cp', '-', 'box:/evil'], tarball);
    assert.ok(r.status === 0 || r.status === 1, r.stderr.toString());
    assert.equal(hostState(), before0, 'the host directory or secret changed');
    // Where the links lead for a process in the container: its own root.
    const inside = ok(['exec', 'box', 'sh', '-c', `ls ${hostDir} 2>/dev/null; true`]).toString();
    assert.doesNotMatch(inside, /keep/, 'the container sees the host directory');
  });

  it('cp a host file into a planted link and a link chain: written inside the container', () => {
    const f = join(dir, 'payload.txt');
    writeFileSync(f, 'payload\n');
    for (const target of ['box:/evil/abs/payload.txt', 'box:/evil/rel/', 'box:/evil/chain/x.txt']) berth(['cp', f, target]);
    assert.equal(hostState(), before0, 'the host directory or secret changed');
  });

  it("cp out of planted links: the links come out as links, never the host secret's text", () => {
    const tarOut = ok(['cp', 'box:/evil', '-']);
    assert.ok(!tarOut.includes(Buffer.from(SECRET)), 'the secret is in the tar stream');
    const list = spawnSync('tar', ['-tvf', '-'], { input: tarOut, encoding: 'utf8' }).stdout;
    assert.match(list, /evil\/secret-abs -> /);
    for (const p of ['/evil/secret-abs', '/evil/sub/secret-rel']) assert.ok(!ok(['cp', `box:${p}`, '-']).includes(Buffer.from(SECRET)), p);
    const dest = join(dir, 'out');
    mkdirSync(dest);
    ok(['cp', 'box:/evil', dest]);
    assert.ok(lstatSync(join(dest, 'evil', 'secret-abs')).isSymbolicLink());
    assert.equal(readlinkSync(join(dest, 'evil', 'secret-abs')), secret);
    assert.equal(readFileSync(join(dest, 'evil', 'plain'), 'utf8'), 'inside\n');
    // A link in the *path* resolves inside the container: /evil/abs is the container's own (empty) path.
    const r = berth(['cp', 'box:/evil/abs/keep', join(dir, 'stolen')]);
    assert.notEqual(r.status, 0, 'cp followed a planted link out of the container');
    assert.ok(!existsSync(join(dir, 'stolen')));
    assert.equal(hostState(), before0);
  });

  it('export: the links are in the archive as links, the secret is not', () => {
    const out = join(dir, 'box.tar');
    ok(['export', '-o', out, 'box']);
    const data = readFileSync(out);
    assert.ok(!data.includes(Buffer.from(SECRET)), 'the secret is in the export');
    assert.match(spawnSync('tar', ['-tvf', out], { encoding: 'utf8' }).stdout, /evil\/chain -> \/evil\/abs/);
  });

  it('commit: the layer holds the links, and an image made of it cannot read the host', () => {
    ok(['commit', 'box', 'planted:1']);
    const out = ok(['run', '--rm', '--network', 'none', 'planted:1', 'sh', '-c', 'cat /evil/secret-abs /evil/sub/secret-rel 2>&1; ls /evil/abs/ 2>&1; true']).toString();
    assert.ok(!out.includes(SECRET), out);
    assert.doesNotMatch(out, /keep/);
    const saved = ok(['save', 'planted:1']);
    assert.ok(!saved.includes(Buffer.from(SECRET)));
  });

  it('volume seeding from an image that plants links: the volume gets the links, the host nothing', () => {
    // /evil is the image's path the new volume is first mounted on: its content seeds the volume.
    ok(['run', '-d', '--network', 'none', '--name', 'seeded', '-v', 'seedvol:/evil', 'planted:1', 'sleep', '600']);
    const ls = ok(['exec', 'seeded', 'ls', '-la', '/evil']).toString();
    assert.match(ls, /secret-abs -> /);
    assert.match(ls, /plain/);
    assert.equal(hostState(), before0);
    const vol = JSON.parse(ok(['volume', 'inspect', 'seedvol']).toString())[0].Mountpoint as string;
    assert.ok(lstatSync(join(vol, 'abs')).isSymbolicLink(), 'the link was not copied as a link');
  });

  it("ADD of a local archive into a stage where a RUN planted links to the host: the entries stay in the stage", () => {
    const ctx = join(dir, 'addctx');
    mkdirSync(join(ctx, 'src', 'evil'), { recursive: true });
    writeFileSync(join(ctx, 'src', 'evil', 'dropped'), 'from ADD\n');
    // Names only (no directory entries): extracting evil/dropped opens the stage's /evil.
    spawnSync('tar', ['-C', join(ctx, 'src'), '-czf', join(ctx, 'evil.tar.gz'), 'evil/dropped']);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox\nRUN ln -s ${hostDir} /evil\nADD evil.tar.gz /\n`);
    const r = berth(['build', '-q', '--network', 'none', '-t', 'added:1', ctx]);
    assert.equal(hostState(), before0, 'ADD wrote through the planted link to the host');
    if (r.status === 0) assert.match(ok(['run', '--rm', '--network', 'none', 'added:1', 'sh', '-c', `cat /evil/dropped ${hostDir}/dropped 2>/dev/null; true`]).toString(), /from ADD/);
  });

  it('a directory swapped for a link to the host during cp (the CVE-2018-15664 race): nothing reaches the host', () => {
    // In the container, /race/d flips between a directory and a link to the host directory.
    ok(['run', '-d', '--network', 'none', '--name', 'flipper', 'busybox', 'sh', '-c', `mkdir -p /race/d; while :; do mv /race/d /race/d.dir; ln -s ${hostDir} /race/d; rm /race/d; mv /race/d.dir /race/d; done`]);
    const src = join(dir, 'racesrc');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd', 'raced'), 'from the race\n');
    const tarball = spawnSync('tar', ['-C', src, '-c', 'd/raced']).stdout;
    for (let i = 0; i < 40; i++) {
      berth(['cp', '-', 'flipper:/race'], tarball);
      berth(['cp', 'flipper:/race', join(dir, `raceout${i}`)]);
    }
    assert.equal(hostState(), before0, 'the race reached the host directory');
    for (let i = 0; i < 40; i++) {
      const p = join(dir, `raceout${i}`, 'race', 'd');
      if (existsSync(p) && !lstatSync(p).isSymbolicLink()) assert.ok(!readdirSync(p).includes('keep'), 'the host directory was read');
    }
  });
});
