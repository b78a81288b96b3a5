/**
 * A containers.conf of the caller's own for podman on this kind of host (no systemd: cgroupfs and
 * file events; podman's default nofile/nproc limits of 1048576 are above the host's hard limits),
 * written into `dir`. Tests and benchmarks point podman at it with CONTAINERS_CONF; berth never
 * writes into the host's /etc/containers.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function podmanConf(dir: string): string {
  const hard = (flag: string) => {
    const v = spawnSync('sh', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).stdout.trim();
    return /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const nofile = hard('n') ?? 1048576;
  // conmon runs the OCI runtime with nproc lowered to 32768 here
  const nproc = Math.min(hard('u') ?? 32768, 32768);
  const file = join(dir, 'containers.conf');
  writeFileSync(
    file,
    `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n`,
  );
  return file;
}
