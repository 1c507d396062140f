import type { Platform } from '@platform/platform-config';
import { CLUSTER_DEFINITIONS_DIR, WORKSPACE_WIDE_FILES, clustersPairedWith, isTestOrDoc, isUnder } from './affected-stacks';

/**
 * Maps a pull request's changed files to the clusters whose Flux manifests (clusters/<name>/)
 * can change, whether or not a Terraform stack is affected: a manifest-only pull request
 * (add-ons, the gitops app, a committed manifest) still needs its ha-check report and Flux
 * diff. Conservative like the stack mapping: anything the gitops app is built from affects
 * every cluster, except one cluster's definition file (that cluster and its failover pair).
 */
export interface ClusterMappingInput {
  readonly changedFiles: readonly string[];
  readonly platform: Platform;
  /** Project roots the gitops app is built from (apps/gitops and its dependencies). */
  readonly gitopsSourceRoots: readonly string[];
}

export interface AffectedCluster {
  readonly cluster: string;
  /** Why it is affected: the first changed file that selected it. */
  readonly because: string;
}

export function affectedClusters(input: ClusterMappingInput): AffectedCluster[] {
  const { platform } = input;
  const selected = new Map<string, string>();
  const select = (cluster: string, because: string) => {
    if (!selected.has(cluster)) selected.set(cluster, because);
  };
  const selectAll = (because: string) => platform.clusters.forEach((c) => select(c.name, because));
  const byPath = platform.clusters.map((c) => ({ cluster: c.name, path: platform.namesOf(c).gitopsPath }));

  for (const file of input.changedFiles) {
    if (WORKSPACE_WIDE_FILES.includes(file)) {
      selectAll(file);
      continue;
    }
    // A committed manifest selects its cluster even when it is a Markdown or YAML file the
    // source rules below would skip: Flux applies whatever is in the folder.
    const owner = byPath.find((p) => isUnder(file, p.path));
    if (owner) {
      select(owner.cluster, file);
      continue;
    }
    if (isTestOrDoc(file)) continue;
    if (file.startsWith(CLUSTER_DEFINITIONS_DIR)) {
      const base = file.slice(CLUSTER_DEFINITIONS_DIR.length).replace(/\.ts$/, '');
      if (platform.clusters.some((c) => c.name === base)) {
        for (const name of clustersPairedWith(platform, base)) select(name, file);
        continue;
      }
    }
    if (input.gitopsSourceRoots.some((root) => isUnder(file, root))) selectAll(file);
  }
  return platform.clusters.filter((c) => selected.has(c.name)).map((c) => ({ cluster: c.name, because: selected.get(c.name) as string }));
}

/**
 * The affected clusters no affected stack covers: a stack's plan comment already carries its
 * cluster's ha-check report and Flux diff, so only these get a comment of their own.
 */
export function manifestOnlyClusters(clusters: readonly AffectedCluster[], stackClusters: readonly (string | undefined)[]): AffectedCluster[] {
  return clusters.filter((c) => !stackClusters.includes(c.cluster));
}
