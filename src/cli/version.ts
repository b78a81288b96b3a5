/** `version --format`: berth's versions in the shape of the docker CLI's versionInfo (Client, Server). */
import type { Command } from 'commander';
import { release } from 'node:os';
import { GO_JSON, goStruct, toJSON } from '../lib/gotemplate/index.js';
import type { GlobalOptions } from './context.js';
import { printObject } from './output.js';
import { runDefined } from './program.js';

export const VERSION = '0.1.0';
/** The Docker Engine API version berth answers as. */
const API_VERSION = '1.41';

const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** A struct whose JSON names some fields apart from their Go names (`APIVersion` is `ApiVersion`), as Docker's json tags do. */
function tagged<T extends object>(type: string, o: T, jsonNames: Record<string, string>): T {
  const s = goStruct(type, o);
  Object.defineProperty(s, GO_JSON, { enumerable: false, value: () => toJSON(goStruct(type, Object.fromEntries(Object.entries(o).map(([k, v]) => [jsonNames[k] ?? k, v])))) });
  return s;
}

export function versionInfo() {
  const arch = GO_ARCH[process.arch] ?? process.arch;
  const common = { Version: VERSION, APIVersion: API_VERSION, GitCommit: '', GoVersion: `node${process.versions.node}`, Os: process.platform, Arch: arch };
  const { Version, APIVersion, GitCommit, GoVersion, Os, Arch } = common;
  const client = tagged('system.clientVersion', { Platform: null, Version, APIVersion, DefaultAPIVersion: API_VERSION, GitCommit, GoVersion, Os, Arch, BuildTime: '', Context: 'default' }, { APIVersion: 'ApiVersion' });
  const server = tagged('*types.Version', { Platform: goStruct('struct { Name string }', { Name: 'berth' }), Components: [], ...common, MinAPIVersion: '1.24', KernelVersion: release(), BuildTime: '' }, { APIVersion: 'ApiVersion' });
  return goStruct('system.versionInfo', { Client: client, Server: server });
}

const version = (cmd: Command) =>
  cmd
    .description('show the version')
    .option('-f, --format <format>', 'a Go template over Client and Server, or json')
    .action((o) => {
      if (!o.format) return void process.stdout.write(`berth version ${VERSION}\n`);
      printObject(o.format, versionInfo(), { name: 'version', type: 'system.versionInfo', typed: true });
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { version });
}
