/**
 * Networks side by side: create (a subnet given by hand, labels), inspect, connect and disconnect
 * a running container, rm, and their errors. dockerd's networks and berth's live on one host, so
 * each engine's bridge has the same subnet as the other's: a subnet given by hand may overlap a
 * route that is not the engine's own (Docker allows it; so does berth).
 */
import { after, before, describe, it } from 'node:test';
import { cleanupTmp, isRoot } from '../helpers.js';
import { dockerdSkip, modernDockerCliPath, sideBySide, type SideBySide } from './side-by-side.js';

const noExitStatus = (s: string) => s.replace(/^exit status 1\n/m, '');

describe('side by side: networks', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  let sbs: SideBySide;
  before(async () => {
    // Driven by the docker 28 CLI (what users have today; the errors' words are its).
    sbs = await sideBySide('networks', { cli: modernDockerCliPath });
  });
  after(() => {
    sbs?.both(['rm', '-f', 'nc1']);
    sbs?.both(['network', 'rm', 'dn1', 'dn2']);
    sbs?.stop();
    cleanupTmp();
  });

  it('network create: by name, with --subnet and --label (overlapping the other engine\'s bridge)', () => {
    sbs.same(['network', 'create', 'dn1'], { normalize: (s) => s.replace(/^[0-9a-f]{64}\n$/, '<id>\n') });
    sbs.same(['network', 'create', '--subnet', '10.77.0.0/24', '--label', 'a=b', 'dn2']);
  });
  it('network inspect: name, driver, scope, flags, IPAM config, labels', () => {
    sbs.same(['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Attachable}} {{.EnableIPv6}}', 'dn1']);
    sbs.same(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'dn2']);
    sbs.same(['network', 'inspect', '-f', '{{json .Labels}}', 'dn2']);
  });
  it('network create of a name in use, rm and inspect of a missing one', () => {
    sbs.same(['network', 'create', 'dn1'], { stderr: true });
    // (The docker 28 CLI adds a line "exit status 1" after a failed network rm: compared without it.)
    sbs.same(['network', 'rm', 'nope'], { stderr: true, normalize: noExitStatus });
    sbs.same(['network', 'inspect', 'nope'], { stderr: true });
  });
  it('run with --network and --ip: the address, prefix and gateway in inspect', () => {
    sbs.same(['run', '-d', '--name', 'nc1', '--network', 'dn2', '--ip', '10.77.0.50', 'busybox', 'sleep', '600']);
    sbs.same(['inspect', '-f', '{{.NetworkSettings.Networks.dn2.IPAddress}} {{.NetworkSettings.Networks.dn2.IPPrefixLen}} {{.NetworkSettings.Networks.dn2.Gateway}}', 'nc1']);
  });
  it('network connect and disconnect, twice each, and rm of a network in use', () => {
    sbs.same(['network', 'connect', 'dn1', 'nc1']);
    sbs.same(['network', 'connect', 'dn1', 'nc1'], { stderr: true });
    sbs.same(['exec', 'nc1', 'sh', '-c', 'ls /sys/class/net | sort']);
    sbs.same(['network', 'disconnect', 'dn1', 'nc1']);
    sbs.same(['network', 'disconnect', 'dn1', 'nc1'], { stderr: true });
    sbs.same(['network', 'rm', 'dn2'], { stderr: true, normalize: noExitStatus });
  });
});
