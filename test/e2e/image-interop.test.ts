/**
 * Round trips with the anchors, where they are installed: a `berth save` archive loads in podman
 * with the same image id; what podman saves, berth loads; skopeo copies berth's OCI archive to an
 * OCI layout with the same manifest digest. (docker needs a running daemon: not checked here.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImageService, loadArchive, saveArchive } from '../../src/engine/index.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const podman = ['/usr/bin/podman'].find((p) => existsSync(p));
const skopeo = ['/usr/bin/skopeo'].find((p) => existsSync(p));

describe('image archives with podman and skopeo', { skip: !isRoot ? 'needs root' : false }, () => {
  const dir = tmp('berth-interop-');
  const pm = (...args: string[]) => spawnSync(podman!, ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 120_000 });
  after(() => {
    if (podman) spawnSync(podman, ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), 'system', 'reset', '-f'], { timeout: 60_000 });
    cleanupTmp();
  });

  it('podman loads what berth saves, with the same image id; berth loads what podman saves', { skip: !podman ? 'podman is not installed' : false }, async () => {
    const svc = new ImageService({ root: tmp() });
    const rec = await svc.starter('busybox:interop');
    const file = join(dir, 'berth.tar');
    await saveArchive(svc, ['busybox:interop'], createWriteStream(file), { format: 'docker-archive', file });
    const l = pm('load', '-i', file);
    assert.equal(l.status, 0, l.stderr);
    assert.equal(pm('image', 'inspect', '--format', '{{.Id}}', 'docker.io/library/busybox:interop').stdout.trim(), rec.id.slice(7));

    for (const format of ['docker-archive', 'oci-archive']) {
      const out = join(dir, `podman-${format}.tar`);
      const s = pm('save', '--format', format, '-o', out, 'docker.io/library/busybox:interop');
      assert.equal(s.status, 0, s.stderr);
      const other = new ImageService({ root: tmp() });
      const loaded = await loadArchive(other, createReadStream(out), { source: out });
      assert.equal(loaded[0]!.id, rec.id, `${format}: ${JSON.stringify(loaded)}`);
    }
  });

  it('skopeo copies berth’s OCI archive to a layout with the same manifest digest', { skip: !skopeo ? 'skopeo is not installed' : false }, async () => {
    const svc = new ImageService({ root: tmp() });
    const rec = await svc.starter('busybox:oci');
    const file = join(dir, 'berth-oci.tar');
    await saveArchive(svc, ['busybox:oci'], createWriteStream(file), { format: 'oci-archive', file });
    const layout = join(dir, 'layout');
    const c = spawnSync(skopeo!, ['copy', '-q', '--preserve-digests', `oci-archive:${file}`, `oci:${layout}:copy`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(c.status, 0, c.stderr);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, rec.manifestDigest);
  });
});
