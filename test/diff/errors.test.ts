/**
 * Side by side: what each command prints on stderr and the exit code it ends with when it fails
 * (a missing or busy object, a bad flag or argument, an unknown command), as the docker CLI with
 * dockerd. The program's name is berth's own where Docker's messages say `docker`, and berth's
 * runtime is not runc: both are normalised.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRoot, cleanupTmp } from '../helpers.js';
import { dockerdSkip, modernDockerCliPath, sideBySide, type SideBySide } from './side-by-side.js';

/** `docker` and `berth` as the program's name; runc and berth-runtime as the OCI runtime. */
function normalize(s: string): string {
  return s
    .replace(/\b(runc|berth-runtime) create failed\b/g, '<runtime> create failed')
    .replace(/\bdocker\b/g, 'berth');
}

const opts = { stderr: true, normalize } as const;

// The docker 28 CLI (the one users have, and the one the harness is meant to drive): Debian's
// 20.10 CLI words many of these errors differently.
const skip = !isRoot ? 'needs root' : dockerdSkip() ?? (modernDockerCliPath ? false : 'the docker 28 CLI (/usr/local/bin/docker) is not installed');

describe('side by side: errors and exit codes', { skip }, () => {
  let sbs: SideBySide;
  before(async () => {
    sbs = await sideBySide('errors', { cli: modernDockerCliPath });
    // In both: a created container, a running one, one whose command is not there, one with a volume.
    for (const args of [
      ['create', '--name', 'made', 'busybox', 'true'],
      ['run', '-d', '--name', 'up', 'busybox', 'sleep', '1000'],
      ['create', '--name', 'nobin', 'busybox', 'no-such-binary'],
      ['create', '--name', 'withvol', '-v', 'usedvol:/x', 'busybox', 'true'],
    ]) {
      const { d, b } = sbs.both(args);
      assert.equal(d.status, 0, d.stderr);
      assert.equal(b.status, 0, b.stderr);
    }
  });
  after(() => {
    sbs?.stop();
    cleanupTmp();
  });

  /** Scenarios whose every line is compared: exit code, stdout and stderr. */
  const scenarios: [string, string[]][] = [
    // a container that is not there: exit 1, the daemon's words
    ['rm of a missing container', ['rm', 'nosuch']],
    ['rm of two missing containers: both errors', ['rm', 'nosuch1', 'nosuch2']],
    ['rm -f of a missing container: said, exit 0', ['rm', '-f', 'nosuch']],
    ['stop of a missing container', ['stop', 'nosuch']],
    ['stop goes on after a missing container', ['stop', 'nosuch', 'made']],
    ['kill of a missing container', ['kill', 'nosuch']],
    ['kill of a stopped container', ['kill', 'made']],
    ['kill -s of an unknown signal', ['kill', '-s', 'BOGUS', 'up']],
    ['start of a missing container', ['start', 'nosuch']],
    ['restart of a missing container', ['restart', 'nosuch']],
    ['logs of a missing container', ['logs', 'nosuch']],
    ['logs --since of a value that is no time', ['logs', '--since', 'abc', 'up']],
    ['pause of a missing container', ['pause', 'nosuch']],
    ['pause of a missing and a stopped container', ['pause', 'nosuch', 'made']],
    ['unpause of a missing container', ['unpause', 'nosuch']],
    ['wait of a missing container', ['wait', 'nosuch']],
    ['top of a missing container', ['top', 'nosuch']],
    ['top of a stopped container', ['top', 'made']],
    ['port of a missing container', ['port', 'nosuch']],
    ['rename of a missing container', ['rename', 'nosuch', 'x']],
    ['rename to a name in use', ['rename', 'made', 'up']],
    ['diff of a missing container', ['diff', 'nosuch']],
    ['export of a missing container', ['export', 'nosuch']],
    ['commit of a missing container', ['commit', 'nosuch']],
    ['attach of a missing container', ['attach', 'nosuch']],
    ['exec in a missing container', ['exec', 'nosuch', 'true']],
    ['exec in a stopped container', ['exec', 'made', 'true']],
    ['update of a missing container', ['update', '--memory', '10m', 'nosuch']],
    ['update without a flag', ['update', 'up']],
    ['start -a of two containers', ['start', '-a', 'made', 'up']],
    ['cp between two host paths', ['cp', '/tmp/a', '/tmp/b']],
    ['cp between two containers', ['cp', 'made:/a', 'up:/b']],
    ['run --rm with --restart', ['run', '--rm', '--restart', 'always', 'busybox', 'true']],
    ['stats of a missing container', ['stats', '--no-stream', 'nosuch']],
    ['cp from a missing container', ['cp', 'nosuch:/x', '-']],
    ['cp of a missing file', ['cp', 'up:/nosuch', '-']],
    ['rm of a running container', ['rm', 'up']],
    ['create with a name in use: exit 1', ['create', '--name', 'made', 'busybox']],
    ['run with a name in use: 125', ['run', '--name', 'made', 'busybox']],
    ['network connect of a missing container', ['network', 'connect', 'none', 'nosuch']],
    // images
    ['rmi of a missing image (as NAME:latest)', ['rmi', 'nosuch']],
    ['rmi of two missing images', ['rmi', 'nosuch1', 'nosuch2']],
    ['rmi -f of a missing image: said, exit 0', ['rmi', '-f', 'nosuch']],
    ['rmi of an image a container uses', ['rmi', 'busybox']],
    ['tag of a missing image', ['tag', 'nosuch', 'x']],
    ['history of a missing image', ['history', 'nosuch']],
    ['save of a missing image', ['save', 'nosuch']],
    ['image inspect of a missing image', ['image', 'inspect', 'nosuch']],
    // inspect: what it found, then an error per missing name
    ['inspect of a missing object', ['inspect', 'nosuch']],
    ['inspect of two missing objects', ['inspect', 'nosuch1', 'nosuch2']],
    ['inspect -f of a missing object: an empty line', ['inspect', '-f', '{{.Id}}', 'nosuch']],
    ['inspect -f of a missing and a present object', ['inspect', '-f', '{{.Id}}', 'nosuch', 'busybox']],
    ['inspect --type container of a missing one', ['inspect', '--type', 'container', 'nosuch']],
    ['inspect --type image of a missing one', ['inspect', '--type', 'image', 'nosuch']],
    ['inspect --type volume of a missing one', ['inspect', '--type', 'volume', 'nosuch']],
    ['inspect --type of an unknown type', ['inspect', '--type', 'bogus', 'x']],
    ['container inspect of a missing container', ['container', 'inspect', 'nosuch']],
    // volumes and networks
    ['volume rm of a missing volume', ['volume', 'rm', 'nosuch']],
    ['volume rm -f of a missing volume: exit 0', ['volume', 'rm', '-f', 'nosuch']],
    ['volume create of a bad name', ['volume', 'create', 'bad name']],
    ['volume rm of a volume a container uses', ['volume', 'rm', 'usedvol']],
    ['volume inspect of two missing volumes', ['volume', 'inspect', 'nosuch1', 'nosuch2']],
    ['volume inspect -f of a missing volume', ['volume', 'inspect', '-f', '{{.Name}}', 'nosuch']],
    ['network inspect of a missing network', ['network', 'inspect', 'nosuch']],
    ['network connect to a missing network', ['network', 'connect', 'nosuch', 'up']],
    ['network disconnect from a missing network', ['network', 'disconnect', 'nosuch', 'up']],
    ['network create with a driver dockerd does not have', ['network', 'create', '--driver', 'nosuch', 'n1']],
    // files the CLI reads
    ['load of a missing file', ['load', '-i', '/nonexistent/berth-missing.tar']],
    ['import of a missing file', ['import', '/nonexistent/berth-missing.tar']],
    // unknown commands and subcommands: exit 1
    ['an unknown command', ['nosuchcmd']],
    ['an unknown volume subcommand', ['volume', 'nosuch']],
    ['an unknown network subcommand', ['network', 'nosuch']],
    ['an unknown image subcommand', ['image', 'nosuch']],
    ['an unknown container subcommand', ['container', 'nosuch']],
    ['an unknown system subcommand', ['system', 'nosuch']],
    // flags: 125
    ['an unknown long flag', ['rm', '--bogus', 'x']],
    ['an unknown shorthand flag', ['rm', '-z', 'x']],
    ['an unknown flag of run', ['run', '--bogus', 'busybox']],
    ['an unknown flag of create', ['create', '--bogus', 'busybox']],
    ['an unknown flag of a subcommand', ['image', 'ls', '--bogus']],
    ['an unknown global flag', ['--bogus', 'ps']],
    ['a flag without its value (shorthand)', ['stop', '-t']],
    ['a flag without its value (long)', ['stop', '--time']],
    // arguments: 1
    ['rm without arguments', ['rm']],
    ['stop without arguments', ['stop']],
    ['run without arguments', ['run']],
    ['create without arguments', ['create']],
    ['inspect without arguments', ['inspect']],
    ['logs without arguments', ['logs']],
    ['logs with two', ['logs', 'a', 'b']],
    ['tag with one', ['tag', 'x']],
    ['exec with one', ['exec', 'up']],
    ['ps with one', ['ps', 'extra']],
    ['commit with three', ['commit', 'a', 'b', 'c']],
    ['rename with one', ['rename', 'a']],
    ['port with three', ['port', 'a', 'b', 'c']],
    ['volume create with two', ['volume', 'create', 'a', 'b']],
    ['volume rm without arguments', ['volume', 'rm']],
    ['volume ls with one', ['volume', 'ls', 'x']],
    ['network rm without arguments', ['network', 'rm']],
    ['network create without arguments', ['network', 'create']],
    // run and create: 125, or 126/127 when the command cannot be executed
    ['run of a missing command: 127', ['run', '--rm', 'busybox', 'no-such-binary']],
    ['run of a missing absolute path: 127, stat ...', ['run', '--rm', 'busybox', '/no/such/file']],
    ['run of a file that is not executable: 126', ['run', '--rm', 'busybox', '/etc/passwd']],
    ['run of a directory: 126', ['run', '--rm', 'busybox', '/etc']],
    ['run -w with a relative path', ['run', '--rm', '-w', 'rel', 'busybox', 'true']],
    ['run -m below the minimum', ['run', '--rm', '-m', '1k', 'busybox', 'true']],
    ['run --env-file of a missing file', ['run', '--rm', '--env-file', '/nonexistent/berth-env', 'busybox', 'true']],
    ['create --env-file of a missing file: 125', ['create', '--env-file', '/nonexistent/berth-env', 'busybox']],
    ['run -u of a user the image lacks', ['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']],
    ['start of a container whose command is missing: 1', ['start', 'nobin']],
    ['start -a of a container whose command is missing', ['start', '-a', 'nobin']],
    ['restart of a container whose command is missing', ['restart', 'nobin']],
    // exec: a process that cannot start is 126 (dockerd's), the runtime's words in the output stream
    ['exec of a missing command', ['exec', 'up', 'no-such-binary']],
    ['exec of a missing absolute path', ['exec', 'up', '/no/such']],
    ['exec of a file that is not executable', ['exec', 'up', '/etc/passwd']],
    ['exec -w of a missing directory', ['exec', '-w', '/missing', 'up', 'pwd']],
    ['exec -w with a relative path', ['exec', '-w', 'rel', 'up', 'pwd']],
    ['exec -u of a user the image lacks', ['exec', '-u', 'nosuchuser', 'up', 'true']],
    ['exec -d of a missing command: the daemon answers, exit 1', ['exec', '-d', 'up', 'no-such-binary']],
    ['exec -d -u of a user the image lacks', ['exec', '-d', '-u', 'nosuchuser', 'up', 'true']],
    ['exec passes the exit code through', ['exec', 'up', 'sh', '-c', 'exit 4']],
    // last: it starts `made`
    ['start of a missing and a created container', ['start', 'made', 'nosuch']],
  ];
  for (const [name, args] of scenarios) it(name, () => void sbs.same(args, opts));

  it('run of a missing image: 125 (dockerd pulls and fails; berth has no registry here: the exit code only)', () => {
    // dockerd tries to pull it (a network error here); berth says it is not there.
    const { d, b } = sbs.both(['run', '--rm', 'nosuchimage']);
    assert.equal(d.status, 125, d.stderr);
    assert.equal(b.status, 125, b.stderr);
  });
  it('create of a missing image: 1 (the exit code only, as above)', () => {
    const { d, b } = sbs.both(['create', 'nosuchimage']);
    assert.equal(d.status, 1, d.stderr);
    assert.equal(b.status, 1, b.stderr);
  });
  it('network rm of a missing network: exit 1, the same first line (the docker 28 CLI adds "exit status 1")', () => {
    const { d, b } = sbs.both(['network', 'rm', 'nosuch']);
    assert.equal(b.status, d.status);
    assert.equal(b.stderr.split('\n')[0], d.stderr.split('\n')[0]);
  });
  it('an env file that exists is read by berth, not by node', () => {
    const f = join(sbs.dir, 'env');
    writeFileSync(f, 'FOO=bar\n');
    sbs.same(['run', '--rm', '--env-file', f, 'busybox', 'sh', '-c', 'echo $FOO'], opts);
  });
});
