/** `port`: a running container's published ports (all, or where one private port goes). */
import type { Command } from 'commander';
import { invalidArgument } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { runDefined } from './program.js';

const port = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("a container's published ports")
    .argument('<container>')
    .argument('[private-port]')
    .action(async (c: string, priv: string | undefined) => {
      const out = (s: string) => void process.stdout.write(s);
      let ports = (await engine(g)).containers.ports(c);
      if (priv !== undefined) {
        const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(priv);
        if (!m) throw invalidArgument(`invalid port ${JSON.stringify(priv)}: use PORT[/tcp|udp]`);
        ports = ports.filter((p) => p.containerPort === Number(m[1]) && p.proto === (m[2] ?? 'tcp'));
        if (ports.length === 0) throw invalidArgument(`No public port '${priv}' published for ${c}`);
        return out(ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`).join(''));
      }
      out(ports.map((p) => `${p.containerPort}/${p.proto} -> ${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`).join(''));
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { port });
}
