/**
 * Docker's usage lines (what `docker COMMAND --help` and its usage errors print after
 * "Usage:  "), by command path; a command not listed gets one made from its commander arguments.
 */
import type { Command } from 'commander';
import { PROG } from './exit.js';

const USAGE: Record<string, string> = {
  '': '[OPTIONS] COMMAND [ARG...]',
  images: '[OPTIONS] [REPOSITORY[:TAG]]',
  tag: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  rmi: '[OPTIONS] IMAGE [IMAGE...]',
  history: '[OPTIONS] IMAGE',
  import: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  save: '[OPTIONS] IMAGE [IMAGE...]',
  load: '[OPTIONS]',
  inspect: '[OPTIONS] NAME|ID [NAME|ID...]',
  info: '[OPTIONS]',
  run: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  create: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  ps: '[OPTIONS]',
  rm: '[OPTIONS] CONTAINER [CONTAINER...]',
  logs: '[OPTIONS] CONTAINER',
  start: '[OPTIONS] CONTAINER [CONTAINER...]',
  stop: '[OPTIONS] CONTAINER [CONTAINER...]',
  kill: '[OPTIONS] CONTAINER [CONTAINER...]',
  wait: 'CONTAINER [CONTAINER...]',
  restart: '[OPTIONS] CONTAINER [CONTAINER...]',
  pause: 'CONTAINER [CONTAINER...]',
  unpause: 'CONTAINER [CONTAINER...]',
  exec: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  attach: '[OPTIONS] CONTAINER',
  rename: 'CONTAINER NEW_NAME',
  update: '[OPTIONS] CONTAINER [CONTAINER...]',
  diff: 'CONTAINER',
  commit: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  export: '[OPTIONS] CONTAINER',
  cp: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-',
  top: 'CONTAINER [ps OPTIONS]',
  stats: '[OPTIONS] [CONTAINER...]',
  build: '[OPTIONS] PATH | URL | -',
  port: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  'container ls': '[OPTIONS]',
  'container prune': '[OPTIONS]',
  'container inspect': '[OPTIONS] CONTAINER [CONTAINER...]',
  'image ls': '[OPTIONS] [REPOSITORY[:TAG]]',
  'image inspect': '[OPTIONS] IMAGE [IMAGE...]',
  'image rm': '[OPTIONS] IMAGE [IMAGE...]',
  'image prune': '[OPTIONS]',
  'volume create': '[OPTIONS] [VOLUME]',
  'volume ls': '[OPTIONS]',
  'volume inspect': '[OPTIONS] VOLUME [VOLUME...]',
  'volume rm': '[OPTIONS] VOLUME [VOLUME...]',
  'volume prune': '[OPTIONS]',
  'network create': '[OPTIONS] NETWORK',
  'network ls': '[OPTIONS]',
  'network inspect': '[OPTIONS] NETWORK [NETWORK...]',
  'network rm': 'NETWORK [NETWORK...]',
  'network connect': '[OPTIONS] NETWORK CONTAINER',
  'network disconnect': '[OPTIONS] NETWORK CONTAINER',
  'network prune': '[OPTIONS]',
  'system prune': '[OPTIONS]',
  'system df': '[OPTIONS]',
  'system info': '[OPTIONS]',
  'builder prune': '',
  // A management command's own line (cobra's UseLine): only volume's names its COMMAND.
  volume: 'COMMAND',
};

/** The same commands under `container` and `image` (docker container rm = docker rm). */
const ALIASED: Record<string, string> = {
  'container run': 'run', 'container create': 'create', 'container rm': 'rm', 'container logs': 'logs', 'container start': 'start', 'container stop': 'stop',
  'container kill': 'kill', 'container wait': 'wait', 'container restart': 'restart', 'container pause': 'pause', 'container unpause': 'unpause',
  'container exec': 'exec', 'container attach': 'attach', 'container rename': 'rename', 'container update': 'update', 'container diff': 'diff',
  'container commit': 'commit', 'container export': 'export', 'container cp': 'cp', 'container top': 'top', 'container stats': 'stats', 'container port': 'port',
  'container list': 'container ls', 'container ps': 'container ls', 'container remove': 'rm',
  'image tag': 'tag', 'image history': 'history', 'image import': 'import', 'image save': 'save', 'image load': 'load', 'image build': 'build',
  'image list': 'image ls', 'image remove': 'image rm', 'volume list': 'volume ls', 'volume remove': 'volume rm', 'network list': 'network ls', 'network remove': 'network rm',
};

/** The command's path as typed, without the program: `volume rm`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Docker's usage line of a command: `berth volume rm [OPTIONS] VOLUME [VOLUME...]`. */
export function usageLine(path: string, cmd?: Command): string {
  const alias = ALIASED[path];
  const args = USAGE[path] ?? (alias !== undefined ? USAGE[alias] : undefined) ?? derived(cmd);
  return [PROG, path, args ?? ''].filter(Boolean).join(' ');
}

function derived(cmd: Command | undefined): string {
  if (!cmd) return '';
  const args = cmd.registeredArguments.map((a) => {
    const n = a.name().toUpperCase();
    const one = a.variadic ? `${n} [${n}...]` : n;
    return a.required ? one : `[${one}]`;
  });
  return [cmd.options.length > 0 ? '[OPTIONS]' : '', ...args].filter(Boolean).join(' ');
}
