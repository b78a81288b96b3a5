/**
 * Volumes (the local driver's options: a tmpfs and a bind of a host directory, mounted only
 * while a container uses them), import/export, history, diff and system df, side by side.
 * Not compared: `volume prune`: this dockerd is 20.10 (API 1.41), whose prune removes named
 * volumes too; berth follows API 1.42+ (Docker 23+): anonymous ones unless -a.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanupTmp, isRoot } from '../helpers.js';
import { dockerdSkip, modernDockerCliPath, sideBySide, type SideBySide } from './side-by-side.js';

describe('side by side: volumes, import/export, history, diff, df', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  let exported: string;
  let bindSrc: string;
  before(async () => {
    // Driven by the docker 28 CLI (what users have today; the errors' words are its).
    sbs = await sideBySide('volumes', { cli: modernDockerCliPath });
    exported = join(sbs.dir, 'exported.tar');
    bindSrc = join(sbs.dir, 'bind-src');
    mkdirSync(bindSrc);
    writeFileSync(join(bindSrc, 'hello'), 'hello\n');
  });
  after(() => {
    sbs?.both(['rm', '-f', 'vu', 'dv']);
    sbs?.stop();
    cleanupTmp();
  });

  it('volume create and inspect: labels, options, an implicit volume', () => {
    sbs.same(['volume', 'create', '--label', 'x=y', 'vv']);
    sbs.same(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}} {{json .Labels}} {{json .Options}}', 'vv']);
    sbs.same(['run', '--rm', '--network', 'none', '-v', 'vimplicit:/d', 'busybox', 'true']);
    sbs.same(['volume', 'inspect', '-f', '{{json .Labels}} {{json .Options}}', 'vimplicit']);
    sbs.same(['volume', 'rm', 'vv', 'vimplicit']);
  });
  it('a tmpfs volume: mounted while used, shared by running containers, empty once the last one stopped', () => {
    sbs.same(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'tv']);
    sbs.same(['volume', 'inspect', '-f', '{{.Options.type}} {{.Options.device}} {{.Options.o}}', 'tv']);
    sbs.same(['run', '--rm', '--network', 'none', '-v', 'tv:/d', 'busybox', 'sh', '-c', "grep ' /d ' /proc/mounts | cut -d' ' -f1,3,4; echo x > /d/f"]);
    sbs.same(['run', '--rm', '--network', 'none', '-v', 'tv:/d', 'busybox', 'ls', '/d']);
    sbs.same(['run', '-d', '--name', 'vu', '--network', 'none', '-v', 'tv:/d', 'busybox', 'sh', '-c', 'echo hi > /d/g; sleep 600'], { normalize: () => '' });
    sbs.same(['exec', 'vu', 'sh', '-c', 'while [ ! -e /d/g ]; do sleep 0.1; done']);
    sbs.same(['run', '--rm', '--network', 'none', '-v', 'tv:/d', 'busybox', 'cat', '/d/g']);
    sbs.same(['rm', '-f', 'vu']);
    sbs.same(['run', '--rm', '--network', 'none', '-v', 'tv:/d', 'busybox', 'ls', '/d']);
    sbs.same(['volume', 'rm', 'tv']);
  });
  it('a volume binding a host directory (type=none, o=bind)', () => {
    sbs.same(['volume', 'create', '--opt', 'type=none', '--opt', `device=${bindSrc}`, '--opt', 'o=bind', 'bv']);
    sbs.same(['run', '--rm', '--network', 'none', '-v', 'bv:/d', 'busybox', 'cat', '/d/hello']);
    sbs.same(['volume', 'rm', 'bv']);
  });
  it('volume create with bad driver options', () => {
    sbs.same(['volume', 'create', '--opt', 'type=nfs', 'bad'], { stderr: true });
    sbs.same(['volume', 'create', '--opt', 'foo=bar', 'bad2'], { stderr: true });
    sbs.same(['volume', 'create', '--opt', 'device=/x', 'bad3'], { stderr: true });
  });
  it('diff, export and import (with and without a message), and the history of an import', () => {
    sbs.same(['run', '--name', 'dv', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir /newdir; echo a > /newdir/f; rm /bin/ls; echo x >> /etc/passwd']);
    // Docker lists the changes in no fixed order (one run: /etc first, the next /newdir): compared sorted.
    sbs.same(['diff', 'dv'], { normalize: (s) => s.split('\n').filter(Boolean).sort().join('\n') });
    sbs.same(['export', '-o', exported, 'dv']);
    sbs.same(['import', '--change', 'CMD ["/bin/sh"]', '-m', 'imported', exported, 'imp:1'], { normalize: (s) => s.replace(/^sha256:<digest>\n$/, '') });
    sbs.same(['import', exported, 'imp:2'], { normalize: (s) => s.replace(/^sha256:<digest>\n$/, '') });
    sbs.same(['run', '--rm', '--network', 'none', 'imp:1', 'cat', '/newdir/f']);
    sbs.same(['inspect', '-f', '{{json .Config.Cmd}} {{.Comment}}', 'imp:1']);
    sbs.same(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'imp:1']);
    sbs.same(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'imp:2']);
  });
  it('history: created-by and sizes of a layer, -q', () => {
    sbs.same(['history', '--format', '{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'busybox']);
    sbs.same(['history', '-q', 'busybox']);
  });
  it('system df: the four rows, counts and sizes', () => {
    sbs.same(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}']);
    sbs.same(['rm', 'dv']);
    sbs.same(['rmi', 'imp:1', 'imp:2'], { normalize: (s) => s.split('\n').filter((l) => !l.startsWith('Deleted:')).join('\n') });
    sbs.same(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}']);
  });
});
