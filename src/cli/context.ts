/** What every berth command gets: the global flags, and the engine built from them on demand. */
import type { ImageService } from '../engine/index.js';

export interface GlobalOptions {
  root?: string;
  runroot?: string;
  storageDriver?: string;
}

export const DEFAULT_ROOT = '/var/lib/berth';

export function rootDir(g: GlobalOptions): string {
  return g.root ?? process.env.BERTH_ROOT ?? DEFAULT_ROOT;
}

export async function imageService(g: GlobalOptions): Promise<ImageService> {
  const { ImageService } = await import('../engine/index.js');
  return new ImageService({ root: rootDir(g), storageDriver: g.storageDriver ?? process.env.BERTH_STORAGE_DRIVER });
}
