/** Where berth keeps its state unless told otherwise (--root / BERTH_ROOT, --runroot / BERTH_RUNROOT). */

/** Images, containers, volumes, networks. */
export const DEFAULT_ROOT = '/var/lib/berth';
/** Runtime state: pids, sockets, bundles. */
export const DEFAULT_RUNROOT = '/run/berth';
