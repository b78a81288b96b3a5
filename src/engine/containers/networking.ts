/** `network connect` and `network disconnect` of a container: its address, and its veth when running. */
import { conflict, invalidArgument, notFound } from '../../lib/errors.js';
import type { ContainerContext } from './context.js';

/** `network connect`: an address on one more network; a running container gets its veth now. */
export async function connect(c: ContainerContext, network: string, nameOrId: string, o: { ip?: string; aliases?: string[] } = {}): Promise<void> {
  const rec = c.store.find(nameOrId);
  const net = await c.networks();
  const n = net.find(network);
  if (!rec.NetworkSettings) throw invalidArgument(`container ${rec.Name} is in network mode ${rec.NetworkMode ?? 'none'}: it cannot join a network`);
  if (rec.NetworkSettings.Networks[n.Name]) throw conflict(`endpoint with name ${rec.Name} already exists in network ${n.Name}`);
  if (n.Name === 'bridge' && (o.ip !== undefined || o.aliases?.length)) throw invalidArgument('--ip and --alias are supported on user defined networks only');
  const { endpoint } = net.allocate(n.Id, { id: rec.Id, name: rec.Name, ip: o.ip, aliases: o.aliases });
  try {
    if (rec.State.Status === 'running') net.connectRunning({ id: rec.Id, name: rec.Name }, n, endpoint);
  } catch (e) {
    net.release(rec.Id, [n.Id]);
    throw e;
  }
  // Under the record's lock: what others changed meanwhile stays.
  const now = c.store.update(rec.Id, (cur) => {
    cur.NetworkSettings!.Networks[n.Name] = endpoint;
  });
  if (!now) throw notFound(`No such container: ${nameOrId}`);
}

/** `network disconnect` */
export async function disconnect(c: ContainerContext, network: string, nameOrId: string): Promise<void> {
  const rec = c.store.find(nameOrId);
  const net = await c.networks();
  const n = net.find(network);
  if (!rec.NetworkSettings?.Networks[n.Name]) throw notFound(`container ${rec.Id} is not connected to network ${n.Name}`);
  if (rec.State.Status === 'running') net.disconnectRunning(rec.Id, n);
  net.release(rec.Id, [n.Id]);
  c.store.update(rec.Id, (cur) => {
    if (cur.NetworkSettings) delete cur.NetworkSettings.Networks[n.Name];
  });
}
