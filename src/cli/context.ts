/** What every berth command gets: the global flags, and the engine built from them on demand. */
import { DEFAULT_ROOT, DEFAULT_RUNROOT, type ContainerService, type ImageService } from '../engine/index.js';

export interface GlobalOptions {
  root?: string;
  runroot?: string;
  storageDriver?: string;
}

export function rootDir(g: GlobalOptions): string {
  return g.root ?? process.env.BERTH_ROOT ?? DEFAULT_ROOT;
}

export async function imageService(g: GlobalOptions): Promise<ImageService> {
  return (await engine(g)).images;
}

export function runrootDir(g: GlobalOptions): string {
  return g.runroot ?? process.env.BERTH_RUNROOT ?? DEFAULT_RUNROOT;
}

/** The image and container services, joined: rmi knows which images containers use. */
export async function engine(g: GlobalOptions): Promise<{ images: ImageService; containers: ContainerService }> {
  const { ImageService, ContainerService } = await import('../engine/index.js');
  let containers: ContainerService | undefined;
  const images = new ImageService({ root: rootDir(g), storageDriver: g.storageDriver ?? process.env.BERTH_STORAGE_DRIVER, inUse: () => containers!.imagesInUse() });
  containers = new ContainerService(images, { root: rootDir(g), runroot: runrootDir(g) });
  return { images, containers };
}
