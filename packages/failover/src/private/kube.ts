import type { ClusterDefinition } from '@platform/platform-config';

/** kubectl arguments for `cluster`: the workflow names each kubeconfig context after its cluster. */
export const kube = (cluster: Pick<ClusterDefinition, 'name'>, ...args: string[]): string[] => ['--context', cluster.name, ...args];

export const CNPG_CLUSTERS = 'clusters.postgresql.cnpg.io';
export const CNPG_BACKUPS = 'backups.postgresql.cnpg.io';
export const FLUX_KUSTOMIZATIONS = 'kustomizations.kustomize.toolkit.fluxcd.io';

/** Which of the two clusters a step works on. */
export type Side = 'primary' | 'standby';
