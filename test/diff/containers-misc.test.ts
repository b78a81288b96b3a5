/**
 * exec, port, rename and wait side by side, with their errors, on one running container. (`update`
 * is in lifecycle.test.ts; berth's update changes the cgroup but not the HostConfig inspect shows.)
 */
import { after, before, describe, it } from 'node:test';
import { cleanupTmp, isRoot } from '../helpers.js';
import { dockerdSkip, modernDockerCliPath, sideBySide, type SideBySide } from './side-by-side.js';

describe('side by side: exec, port, rename, wait', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  before(async () => {
    // Driven by the docker 28 CLI (what users have today; the errors' words are its).
    sbs = await sideBySide('misc', { cli: modernDockerCliPath });
    sbs.same(['run', '-d', '--name', 'm1', '--network', 'none', 'busybox', 'sleep', '600']);
  });
  after(() => {
    sbs?.both(['rm', '-f', 'm1', 'm2', 'mw']);
    sbs?.stop();
    cleanupTmp();
  });

  it('exec: output on stdout and stderr, the exit code', () => {
    sbs.same(['exec', 'm1', 'sh', '-c', 'echo out; echo err >&2; exit 4'], { stderr: true });
  });
  it('exec -e, -w, -u', () => {
    sbs.same(['exec', '-e', 'A=1', '-w', '/tmp', 'm1', 'sh', '-c', 'echo $A; pwd']);
    sbs.same(['exec', '-u', 'nobody', 'm1', 'id']);
    sbs.same(['exec', '-u', '1234:5678', 'm1', 'id']);
  });
  it('exec of a missing binary, by path and by name, and into a missing directory', () => {
    sbs.same(['exec', 'm1', '/nonexistent']);
    sbs.same(['exec', 'm1', 'nonexistent']);
    sbs.same(['exec', '-w', '/nope', 'm1', 'pwd']);
  });
  it('exec into a missing or stopped container', () => {
    sbs.same(['exec', 'nope', 'true'], { stderr: true });
    sbs.same(['create', '--name', 'm2', 'busybox', 'true']);
    sbs.same(['exec', 'm2', 'true'], { stderr: true });
  });
  it('port of a container without published ports', () => {
    sbs.same(['port', 'm1']);
  });
  it('rename: to a new name, to its own name, a missing container, to a name in use', () => {
    sbs.same(['rename', 'm1', 'm1b']);
    sbs.same(['rename', 'm1b', 'm1b'], { stderr: true });
    sbs.same(['rename', 'nope', 'x'], { stderr: true });
    sbs.same(['rename', 'm1b', 'm2'], { stderr: true });
    sbs.same(['rename', 'm1b', 'm1']);
  });
  it('wait: an exited container, several, a missing one', () => {
    sbs.same(['run', '--name', 'mw', 'busybox', 'sh', '-c', 'exit 7']);
    sbs.same(['wait', 'mw']);
    sbs.same(['wait', 'nope'], { stderr: true });
  });

});
