import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultAddOns, FluxNotifications, synthClusterTree, type AddOn } from '@platform/k8s-addons';
import { defaultPlatform, type Platform } from '@platform/platform-config';
import { replaceDirectoryAtomically, runCli } from '@platform/synth-kit';

export const CLUSTERS_DIR = join(__dirname, '..', '..', '..', 'clusters');

/**
 * What every cluster runs: the default add-ons and Flux's feedback (commit statuses on GitHub,
 * failed reconciliations to Alertmanager).
 */
export function platformAddOns(): AddOn[] {
  return [...defaultAddOns(), new FluxNotifications()];
}

/**
 * Writes `clusters/<cluster>/**` for every cluster of the platform. Every tree is built in
 * memory first, so a bad definition or add-on prop throws before anything is written, and
 * the folder is swapped in atomically.
 */
export async function synthClusters(
  outdir: string = CLUSTERS_DIR,
  platform: Platform = defaultPlatform(),
  addOns: readonly AddOn[] = platformAddOns(),
): Promise<void> {
  const trees = platform.clusters.map((cluster) => ({ cluster: cluster.name, tree: synthClusterTree(platform, cluster.name, addOns) }));
  await replaceDirectoryAtomically(outdir, (staging) => {
    for (const { cluster, tree } of trees) {
      for (const [path, content] of Object.entries(tree)) {
        const file = join(staging, cluster, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
  });
}

if (require.main === module) runCli('gitops', () => synthClusters());
