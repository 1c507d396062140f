import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { defaultPlatform, type Platform } from '@platform/platform-config';
import { replaceDirectoryAtomically, runCli } from '@platform/synth-kit';

// Bootstrap skeleton: k8s-addons charts replace this body (issue 5).
export const CLUSTERS_DIR = join(__dirname, '..', '..', '..', 'clusters');

export async function synthClusters(outdir: string = CLUSTERS_DIR, platform: Platform = defaultPlatform()): Promise<void> {
  await replaceDirectoryAtomically(outdir, (staging) => {
    for (const cluster of platform.clusters) {
      mkdirSync(join(staging, cluster.name), { recursive: true });
      writeFileSync(join(staging, cluster.name, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n');
    }
  });
}

if (require.main === module) runCli('gitops', () => synthClusters());
