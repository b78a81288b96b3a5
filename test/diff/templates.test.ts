/**
 * Side by side: --format templates (Go's text/template, the docker CLI's functions, tables and
 * json rows) through `docker inspect -f` / `ps --format` / `images --format` / ... against the
 * harness's dockerd and through berth, on containers made the same way in both.
 * berth prefixes its error messages with "berth: " (the exit-code/error-wording work decides that),
 * so stderr is compared without it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRoot, cleanupTmp } from '../helpers.js';
import { dockerdSkip, normalizeIds, sideBySide, type SideBySide } from './side-by-side.js';

/**
 * The reference is the docker 28 CLI (its formatter: `--format json`, ps's Platform, Go type names
 * in errors); the harness may drive dockerd with Debian's 20.10 CLI, so this file runs the 28 one
 * against the harness's own dockerd (its socket and CLI config in the harness's directory).
 */
const DOCKER28 = '/usr/local/bin/docker';

const unprefixed = (s: string) => s.replace(/^berth: /gm, '');
/** Go's time.Time.String() of creation times, IPs of the user network, image sizes (their content is not this file's). */
const times = (s: string) =>
  unprefixed(s)
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC/g, '<time>')
    .replace(/\b\d+\.\d+\.\d+\.\d+\b/g, '<ip>')
    .replace(/\(virtual [\d.]+[kM]B\)/g, '(virtual <size>)');

describe('side by side: --format templates', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? (existsSync(DOCKER28) ? false : `no docker 28 CLI at ${DOCKER28}`) }, () => {
  let sbs: SideBySide;
  const docker = (args: string[]) =>
    spawnSync(DOCKER28, ['-H', `unix://${join(sbs.dir, 'docker', 'docker.sock')}`, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_CONFIG: join(sbs.dir, 'docker', 'cli') } });
  /** Exit code, stdout and stderr alike (after normalising ids, times, IPs, sizes and berth's prefix). */
  const same = (args: string[]): void => {
    const d = docker(args);
    const b = sbs.berth(args);
    // A ps row's LABELS follows Go's map order in Docker, random from run to run (berth's is sorted).
    const norm = (x: string) => times(normalizeIds(x)).replaceAll('b=two,a=1', 'a=1,b=two');
    const what = `berth ${args.join(' ')}\n docker: [${d.status}] ${d.stdout}${d.stderr}\n berth:  [${b.status}] ${b.stdout}${b.stderr}`;
    assert.equal(b.status, d.status, `exit code differs: ${what}`);
    assert.equal(norm(b.stdout), norm(d.stdout), `stdout differs: ${what}`);
    assert.equal(norm(b.stderr), norm(d.stderr), `stderr differs: ${what}`);
  };
  before(async () => {
    sbs = await sideBySide('templates');
    for (const args of [
      ['network', 'create', 'tplnet'],
      ['run', '-d', '--name', 't1', '--network', 'tplnet', '-l', 'a=1', '-l', 'b=two', '-e', 'FOO=bar', 'busybox', 'sleep', '600'],
      ['run', '--name', 't2', '--network', 'none', 'busybox', 'sh', '-c', 'exit 3'],
      ['volume', 'create', '--label', 'x=1', 'tplvol'],
    ]) {
      const d = docker(args);
      const b = sbs.berth(args);
      assert.equal(d.status, args[0] === 'run' && args.includes('t2') ? 3 : 0, `docker ${args.join(' ')}: ${d.stderr}`);
      assert.equal(b.status, d.status, `berth ${args.join(' ')}: ${b.stderr}`);
    }
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  // inspect: fields, maps, ranges, conditions, functions
  it('inspect: fields of several containers', () => same(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', 't1', 't2']));
  it('inspect: a map prints as map[k:v] in key order', () => same(['inspect', '-f', '{{.Config.Labels}}', 't1', 't2']));
  it('inspect: index of a map, a missing key', () => same(['inspect', '-f', '{{index .Config.Labels "a"}}|{{.Config.Labels.zz}}|{{index .Config.Labels "zz"}}|', 't1']));
  it('inspect: range over a map with key and value', () => same(['inspect', '-f', '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', 't1']));
  it('inspect: json of a map', () => same(['inspect', '-f', '{{json .Config.Labels}}', 't1']));
  it('inspect: range over the networks for the IP address', () => same(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 't1']));
  it('inspect: range over the networks by name', () => same(['inspect', '-f', '{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{end}}', 't1']));
  it('inspect: if eq / else on the exit code', () => same(['inspect', '-f', '{{if eq .State.ExitCode 3}}three{{else if .State.Running}}running{{else}}other{{end}}', 't2', 't1']));
  it('inspect: with and range-else', () => same(['inspect', '-f', '{{with .State}}{{.Status}}{{end}} {{range .Mounts}}m{{else}}no mounts{{end}}', 't1']));
  it('inspect: printf verbs and pipelines', () => same(['inspect', '-f', '{{.Name | printf "%q"}} {{printf "%5.1f|%-4s|%d|%x|%t" 3.14159 "ab" .State.ExitCode 255 .State.Running}}', 't2']));
  it("inspect: the docker CLI's functions", () => same(['inspect', '-f', '{{upper .Name}} {{join (split .Name "/") "-"}} {{title "ab cd"}} {{pad "x" 1 2}}|{{truncate .Name 3}} {{lower "AB"}}', 't1']));
  it('inspect: len, and, or, not, variables', () => same(['inspect', '-f', '{{$n := len .Config.Labels}}{{$n}} {{len .Name}} {{and .State.Running $n}} {{or "" "x"}} {{not .State.Running}}', 't1']));
  it('inspect: trim markers and comments', () => same(['inspect', '-f', '{{- /* a comment */ -}}   {{.Name -}}   x {{"a" -}} {{- "b"}}', 't1']));
  it('inspect: a nested struct of the restart policy', () => same(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}} {{.Config.Image}}', 't1']));
  it('inspect: define, template, block', () => same(['inspect', '-f', '{{define "st"}}[{{.Status}}]{{end}}{{template "st" .State}} {{block "nm" .Name}}<{{.}}>{{end}} {{template "none"}}', 't1']));
  it('inspect: a missing field is an error (exit 1, an empty line out)', () => same(['inspect', '-f', '{{.Foo}}', 't1']));
  it('inspect: a missing field in one of two containers', () => same(['inspect', '-f', '{{if eq .State.Status "running"}}{{.Foo}}{{end}}', 't1', 't2']));
  it('inspect: an unclosed action is a parse error (exit 64)', () => same(['inspect', '-f', '{{.Name', 't1']));
  it('inspect: "{{" alone', () => same(['inspect', '-f', '{{', 't1']));
  it('inspect: an unknown function', () => same(['inspect', '-f', '{{nosuch .Name}}', 't1']));
  it('inspect: an error of a function', () => same(['inspect', '-f', '{{index .Config.Cmd 99}}', 't1']));
  it('inspect: unexpected {{end}}', () => same(['inspect', '-f', '{{.Name}}{{end}}', 't1']));
  it('image inspect: fields and json of a list', () => same(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{json .RepoTags}} {{.Config.Cmd}}', 'busybox']));
  it('volume inspect: fields, labels', () => same(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}', 'tplvol']));
  it('volume inspect: a missing field names the type', () => same(['volume', 'inspect', '-f', '{{.Foo}}', 'tplvol']));
  it('network inspect: fields and a missing one', () => {
    same(['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}}', 'tplnet']);
    same(['network', 'inspect', '-f', '{{.Foo}}', 'tplnet']);
  });

  // listings
  it('ps: a template with a method (.Label)', () => same(['ps', '-a', '--format', '{{.Names}} {{.State}} {{.Label "a"}} {{.Labels}} {{.Networks}}']));
  it('ps: table with headers', () => same(['ps', '-a', '--format', 'table {{.Names}}\\t{{.Image}}\\t{{.Label "b"}}\\t{{.Labels}}\\t{{.Command}}\\t{{.State}}\\t{{.LocalVolumes}}']));
  it('ps: json rows (all fields as strings)', () => same(['ps', '-a', '--format', 'json']));
  it('ps: {{json .}} (a template reading .Size)', () => same(['ps', '-a', '--format', '{{json .}}']));
  it('ps: table with no rows is the header', () => same(['ps', '--format', 'table {{.ID}}\\t{{.CreatedAt}}', '-f', 'name=nomatch']));
  it('ps: a missing field fails before listing', () => same(['ps', '--format', '{{.Foo}}']));
  it('ps: a parse error', () => same(['ps', '--format', '{{.Names']));
  it('-q with --format: ps keeps -q (and warns), images, volume ls and network ls take the template', () => {
    same(['ps', '-q', '--format', '{{.Names}}']);
    same(['images', '-q', '--format', '{{.Repository}}']);
    same(['images', '-q', '--format', 'table']);
    same(['volume', 'ls', '-q', '--format', '{{.Driver}} {{.Name}}']);
    same(['network', 'ls', '-q', '--format', '{{.Name}}', '-f', 'name=tplnet']);
  });
  it('images: a template and a table', () => {
    same(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
    same(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}']);
  });
  it('images: errors', () => {
    same(['images', '--format', '{{.Foo}}']);
    same(['images', '--format', '{{if}}{{end}}']);
  });
  it('volume ls: table with a label column', () => same(['volume', 'ls', '--format', 'table {{.Name}}\\t{{.Driver}}\\t{{.Labels}}\\t{{.Label "x"}}\\t{{.Scope}}']));
  it('history: a template', () => same(['history', '--format', '{{.CreatedBy}}|{{.Comment}}|{{.ID}}', 'busybox']));
  it('stats: .Container is the name asked for', () => same(['stats', '--no-stream', '--format', '{{.Container}}: {{.Name}}', 't1']));
  it('version: a field, a missing one (template named "version"), a parse error (exit 64)', () => {
    same(['version', '--format', '{{.Server.Os}} {{.Client.Os}}']);
    same(['version', '--format', '{{.Client.Foo}}']);
    same(['version', '--format', '{{.Foo']);
  });
  it('info: a missing field (an empty line, exit 1) and a parse error (exit 64)', () => {
    same(['info', '--format', '{{.Foo}}']);
    same(['info', '--format', '{{.Foo']);
  });
});
