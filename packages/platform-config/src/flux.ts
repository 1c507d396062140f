import { CORE_ADDONS } from './bootstrap';
import { CONTROL_PLANE_TOLERATION, FAST_EVICTION_SECONDS } from './core-addon-values';
import type { ClusterDefinition, PlatformSettings } from './cluster-definition';
import type { ClusterNames } from './names';

/**
 * The FluxInstance node-bootstrap creates at first boot and Flux then applies from Git
 * (k8s-addons, `clusters/<cluster>/flux-system/`). Both sides build it from here, so the
 * takeover changes neither the sync nor the Secret it reads.
 */
export const FLUX_INSTANCE_NAMES = {
  /** FluxInstance object name. */
  name: 'flux',
  namespace: CORE_ADDONS.fluxOperator.namespace,
  /** Name of the GitRepository and Kustomization of the cluster sync. */
  syncName: 'flux-system',
  /**
   * Secret with the Git credentials (`username`/`password`, from names.ssm.gitCredentials) that
   * install-addons.sh writes and the sync's `pullSecret` names, when `gitops.auth` is `token`.
   */
  gitSecret: 'flux-system',
} as const;

/** Controllers the FluxInstance installs. */
export const FLUX_COMPONENTS = ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'] as const;

/**
 * Helm values of the flux-operator release, at first boot and from Git alike. It tolerates
 * the control-plane taint: at first boot no worker exists yet, and later it keeps Flux
 * reconciling while the workers (or a whole zone of them) are gone.
 */
export const FLUX_OPERATOR_VALUES = {
  tolerations: [
    CONTROL_PLANE_TOLERATION,
    ...['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS })),
  ],
} as const;

/** The FluxInstance's `spec.sync`: the cluster's Git source and folder. */
export interface FluxGitSync {
  readonly kind: 'GitRepository';
  readonly name: string;
  readonly url: string;
  readonly ref: string;
  readonly path: string;
  readonly interval: string;
  /** Only when `gitops.auth` is `token`: a public repository has no Secret to name. */
  readonly pullSecret?: string;
}

/** HTTPS clone URL of the platform repository. */
export function gitRepositoryUrl(settings: Pick<PlatformSettings, 'github'>): string {
  return `https://github.com/${settings.github.owner}/${settings.github.repository}.git`;
}

export function fluxGitSync(cluster: Pick<ClusterDefinition, 'gitops'>, settings: Pick<PlatformSettings, 'github'>, names: Pick<ClusterNames, 'gitopsPath'>): FluxGitSync {
  return {
    kind: 'GitRepository',
    name: FLUX_INSTANCE_NAMES.syncName,
    url: gitRepositoryUrl(settings),
    ref: `refs/heads/${cluster.gitops.branch}`,
    path: names.gitopsPath,
    interval: `${cluster.gitops.intervalMinutes}m`,
    ...(cluster.gitops.auth === 'token' ? { pullSecret: FLUX_INSTANCE_NAMES.gitSecret } : {}),
  };
}
