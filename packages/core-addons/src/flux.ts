import { deployRefOf, type ClusterDefinition, type ClusterNames, type PlatformSettings } from '@platform/platform-config';
import { stringify } from 'yaml';
import { CORE_ADDONS } from './pins';
import { CONTROL_PLANE_TOLERATION, fastEvictionTolerations, FIRST_NODE_TOLERATIONS } from './tolerations';

/**
 * Names of the FluxInstance node-bootstrap creates at first boot and Flux then applies from
 * Git (`clusters/<cluster>/flux-system/`).
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
 * Helm values of the flux-operator release. At first boot no worker exists and the only node
 * is tainted control-plane, uninitialized and NotReady: the operator may be scheduled there
 * at once (it starts when the CNI gives it a pod IP), and later it keeps Flux reconciling
 * while the workers (or a whole zone of them) are gone.
 */
export const FLUX_OPERATOR_VALUES = {
  tolerations: [...FIRST_NODE_TOLERATIONS, ...fastEvictionTolerations()].map((t) => ({ ...t })),
};

/**
 * Tolerations the FluxInstance's controllers get (kustomize patch): control-plane nodes, so
 * the first sync needs no worker, and fast eviction.
 */
export const FLUX_CONTROLLER_TOLERATIONS = [CONTROL_PLANE_TOLERATION, ...fastEvictionTolerations()];

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

/**
 * The sync follows the cluster's deploy ref (`deploy/<cluster>`, platform-config
 * `deployRefOf`), not main: the pipeline moves it only once the infrastructure the
 * manifests need is applied (packages/pipeline, docs/runbooks/deploy-refs.md).
 */
export function fluxGitSync(cluster: Pick<ClusterDefinition, 'name' | 'gitops'>, settings: Pick<PlatformSettings, 'github'>, names: Pick<ClusterNames, 'gitopsPath'>): FluxGitSync {
  return {
    kind: 'GitRepository',
    name: FLUX_INSTANCE_NAMES.syncName,
    url: gitRepositoryUrl(settings),
    ref: deployRefOf(cluster.name),
    path: names.gitopsPath,
    interval: `${cluster.gitops.intervalMinutes}m`,
    ...(cluster.gitops.auth === 'token' ? { pullSecret: FLUX_INSTANCE_NAMES.gitSecret } : {}),
  };
}

/**
 * The whole FluxInstance, as node-bootstrap applies it and Flux keeps applying it from Git:
 * the controllers, their placement and the cluster sync.
 */
export function fluxInstance(cluster: Pick<ClusterDefinition, 'name' | 'gitops'>, settings: Pick<PlatformSettings, 'github'>, names: Pick<ClusterNames, 'gitopsPath'>) {
  return {
    apiVersion: 'fluxcd.controlplane.io/v1',
    kind: 'FluxInstance',
    metadata: { name: FLUX_INSTANCE_NAMES.name, namespace: FLUX_INSTANCE_NAMES.namespace },
    spec: {
      distribution: { version: CORE_ADDONS.fluxDistribution.version, registry: CORE_ADDONS.fluxDistribution.registry },
      components: [...FLUX_COMPONENTS],
      cluster: { type: 'kubernetes', size: 'medium', multitenant: false, networkPolicy: true, domain: 'cluster.local' },
      kustomize: {
        patches: [{ target: { kind: 'Deployment' }, patch: stringify([{ op: 'add', path: '/spec/template/spec/tolerations', value: FLUX_CONTROLLER_TOLERATIONS }]) }],
      },
      sync: fluxGitSync(cluster, settings, names),
    },
  };
}
