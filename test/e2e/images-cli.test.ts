/** The image commands as a user types them: starter, images, tag, rmi, import, save, load, df. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

async function tarBuffer(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, data] of Object.entries(files)) pack.entry({ name, mode: 0o755 }, data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('berth image commands', { skip }, () => {
  const root = tmp('berth-cli-root-');
  const berth = (args: string[], input?: Buffer) => spawnSync(bin, ['--root', root, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  after(() => cleanupTmp());

  it('makes the starter image and lists it like docker images', () => {
    const s = berth(['starter']);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const r = berth(['images']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s+\S.* ago\s+[\d.]+[kM]B\n$/);
    const q = berth(['images', '-q']);
    assert.equal(q.stdout, s.stdout.slice(7, 19) + '\n');
    const j = JSON.parse(berth(['images', '--format', 'json']).stdout.trim());
    assert.equal(j.Repository, 'busybox');
    assert.equal(j.Tag, 'latest');
    assert.equal(berth(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout, 'busybox:latest\n');
  });

  it('tags, untags and removes', () => {
    assert.equal(berth(['tag', 'busybox', 'example.test/tools/box:1.0']).status, 0);
    assert.match(berth(['images']).stdout, /example\.test\/tools\/box\s+1\.0/);
    // -q: an id a row, as docker (the same id for each tag).
    assert.deepEqual(berth(['images', '-q']).stdout.split('\n').filter(Boolean).length, 2);
    const byId = berth(['rmi', berth(['images', '-q']).stdout.split('\n')[0]!]);
    assert.equal(byId.status, 1);
    assert.match(byId.stderr, /^Error response from daemon: conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories\n$/);
    const un = berth(['rmi', 'example.test/tools/box:1.0']);
    assert.equal(un.stdout, 'Untagged: example.test/tools/box:1.0\n');
    const ins = JSON.parse(berth(['image', 'inspect', 'busybox']).stdout);
    assert.deepEqual(ins[0].RepoTags, ['busybox:latest']);
    assert.equal(berth(['inspect', '--format', '{{.Os}}', 'busybox']).stdout, 'linux\n');
  });

  it('imports a tar from stdin with --change, and shows history', async () => {
    const t = await tarBuffer({ 'hello.sh': '#!/bin/sh\necho hi\n' });
    const r = berth(['import', '-c', 'CMD ["/hello.sh"]', '-c', 'ENV A=1', '-m', 'from a test', '-', 'imported:v1'], t);
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(berth(['image', 'inspect', 'imported:v1']).stdout)[0].Config;
    assert.deepEqual(cfg.Cmd, ['/hello.sh']);
    assert.deepEqual(cfg.Env, ['A=1']);
    const h = berth(['history', 'imported:v1']);
    // As Docker's: no created-by, the message as the comment.
    assert.match(h.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[0-9a-f]{12}\s+\S.* ago\s+\d[\d.]*k?B\s+from a test\n$/);
  });

  it('saves and loads between two roots', () => {
    const file = join(tmp(), 'saved.tar');
    assert.equal(berth(['save', '-o', file, 'busybox']).status, 0);
    const other = tmp('berth-cli-root2-');
    const l = spawnSync(bin, ['--root', other, 'load', '-i', file], { encoding: 'utf8' });
    assert.equal(l.status, 0, l.stderr);
    assert.equal(l.stdout, 'Loaded image: busybox:latest\n');
    const ids = (r: string) => spawnSync(bin, ['--root', r, 'images', '-q', '--no-trunc', 'busybox'], { encoding: 'utf8' }).stdout;
    assert.equal(ids(other), ids(root));
  });

  it('saves an OCI layout directory', () => {
    const dir = join(tmp(), 'layout');
    const r = berth(['save', '--format', 'oci-dir', '-o', dir, 'busybox']);
    assert.equal(r.status, 0, r.stderr);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')).imageLayoutVersion, '1.0.0');
    const digest = index.manifests[0].digest as string;
    assert.ok(existsSync(join(dir, 'blobs', 'sha256', digest.slice(7))));
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'latest');
    const again = berth(['save', '--format', 'oci-dir', '-o', dir, 'busybox']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists and is not empty/);
  });

  it('reports disk usage and prunes', () => {
    assert.match(berth(['system', 'df']).stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+2\s+0\s+/);
    berth(['rmi', 'imported:v1']);
    const p = berth(['image', 'prune', '-f']);
    assert.equal(p.status, 0);
    assert.match(p.stdout, /Total reclaimed space: /);
  });

  it('gives one-line errors and exit 1 for bad input, as Docker', () => {
    const r = berth(['rmi', 'nosuch']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'Error response from daemon: No such image: nosuch:latest\n');
    const f = berth(['images', '--filter', 'bogus=1']);
    assert.equal(f.status, 1);
    assert.match(f.stderr, /Invalid filter 'bogus'/);
    const bad = berth(['tag', 'busybox', 'UpperCase']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid reference format/);
    const file = join(tmp(), 'garbage.tar');
    writeFileSync(file, 'this is not a tar archive at all'.repeat(40));
    const l = berth(['load', '-i', file]);
    assert.equal(l.status, 1);
    assert.match(l.stderr, /^Error response from daemon: load .*garbage\.tar: /);
  });
});
