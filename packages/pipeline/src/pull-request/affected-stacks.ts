import type { Platform } from '@platform/platform-config';

/**
 * Maps a pull request's changed files to the Terraform stacks whose synthesized output can
 * change. Conservative by design: anything the infra app is built from affects every
 * stack, except a single cluster's definition file, which affects that cluster (and the
 * clusters paired with it for failover, whose DNS records name each other).
 */
export interface StackMappingInput {
  readonly changedFiles: readonly string[];
  readonly platform: Platform;
  /** Every stack the infra app synthesizes, in dependency order. */
  readonly stacks: readonly string[];
  /** Project roots the infra app is built from (apps/infra and its dependencies), e.g. from the Nx graph. */
  readonly infraSourceRoots: readonly string[];
}

/** Root files that change how every stack is built. */
export const WORKSPACE_WIDE_FILES: readonly string[] = ['package.json', 'package-lock.json', 'tsconfig.base.json'];

/** Where platform-config keeps one file per cluster (see packages/platform-config/src/clusters/index.ts). */
export const CLUSTER_DEFINITIONS_DIR = 'packages/platform-config/src/clusters/';

export interface AffectedStack {
  readonly stack: string;
  /** The cluster the stack belongs to; undefined for account-level stacks. */
  readonly cluster: string | undefined;
  /** Why it is affected: the first changed file that selected it. */
  readonly because: string;
}

export function isUnder(file: string, root: string): boolean {
  const dir = root.endsWith('/') ? root : `${root}/`;
  return file === root || file.startsWith(dir);
}

export function isTestOrDoc(file: string): boolean {
  return /\.test\.ts$/.test(file) || /(^|\/)test\//.test(file) || /\.md$/.test(file) || /(^|\/)vitest\.config\.mts$/.test(file);
}

/** A cluster with its failover pair: its standby and the clusters that fail over to it. */
export function clustersPairedWith(platform: Platform, name: string): string[] {
  const standby = platform.cluster(name).failover?.standbyCluster;
  const primaries = platform.clusters.filter((c) => c.failover?.standbyCluster === name).map((c) => c.name);
  return [name, ...(standby ? [standby] : []), ...primaries];
}

export function affectedStacks(input: StackMappingInput): AffectedStack[] {
  const { platform, stacks } = input;
  const clusterOfStack = new Map(platform.clusters.map((c) => [platform.namesOf(c).stack, c.name]));
  const selected = new Map<string, string>();
  const select = (stack: string, because: string) => {
    if (stacks.includes(stack) && !selected.has(stack)) selected.set(stack, because);
  };
  const selectAll = (because: string) => stacks.forEach((s) => select(s, because));

  for (const file of input.changedFiles) {
    if (WORKSPACE_WIDE_FILES.includes(file)) {
      selectAll(file);
      continue;
    }
    if (isTestOrDoc(file)) continue;
    if (file.startsWith(CLUSTER_DEFINITIONS_DIR)) {
      const base = file.slice(CLUSTER_DEFINITIONS_DIR.length).replace(/\.ts$/, '');
      const cluster = platform.clusters.find((c) => c.name === base);
      if (cluster) {
        for (const name of clustersPairedWith(platform, cluster.name)) select(platform.namesOf(name).stack, file);
        continue;
      }
    }
    if (input.infraSourceRoots.some((root) => isUnder(file, root))) selectAll(file);
  }
  return stacks.filter((s) => selected.has(s)).map((stack) => ({ stack, cluster: clusterOfStack.get(stack), because: selected.get(stack) as string }));
}

export interface StackManifest {
  readonly stacks: Readonly<Record<string, { readonly dependencies?: readonly string[] }>>;
}

/**
 * Stack names in apply order: a stack after the stacks it depends on (cdktf manifest),
 * ties broken by `preferred` (account stack first, then standby clusters before the
 * clusters that fail over to them, then the rest in platform order).
 */
export function stacksInDependencyOrder(manifest: StackManifest, preferred: readonly string[]): string[] {
  const names = Object.keys(manifest.stacks);
  const rank = (s: string) => {
    const i = preferred.indexOf(s);
    return i === -1 ? preferred.length : i;
  };
  const pending = [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const ordered: string[] = [];
  while (pending.length > 0) {
    const next = pending.findIndex((s) => (manifest.stacks[s]?.dependencies ?? []).every((d) => ordered.includes(d) || !names.includes(d)));
    if (next === -1) throw new Error(`stack dependencies form a cycle among ${pending.join(', ')}`);
    ordered.push(...pending.splice(next, 1));
  }
  return ordered;
}

/** The tie-break order described above, derived from platform-config. */
export function preferredStackOrder(platform: Platform): string[] {
  const standbys = new Set(platform.clusters.map((c) => c.failover?.standbyCluster).filter((s): s is string => !!s));
  const clusters = [...platform.clusters].sort((a, b) => Number(standbys.has(b.name)) - Number(standbys.has(a.name)));
  return [platform.names.ciIdentityStack, ...clusters.map((c) => platform.namesOf(c).stack)];
}
