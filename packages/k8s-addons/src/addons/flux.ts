import { FLUX_COMPONENTS, FLUX_INSTANCE_NAMES, FLUX_OPERATOR_VALUES, fluxGitSync } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import { stringify } from 'yaml';
import type { AddOnContext } from '../addon';
import { FluxInstance, FluxInstanceSpecClusterSize, FluxInstanceSpecClusterType, FluxInstanceSpecComponents, FluxInstanceSpecSyncKind } from '../imports/fluxcd.controlplane.io';
import { FLUX_INSTANCE, FLUX_OPERATOR_RELEASE } from '../releases';
import { fastEvictionTolerations } from '../scheduling';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export type FluxProps = HelmAddOnProps;

/**
 * Flux managing itself: the flux-operator HelmRelease and the FluxInstance that installs the
 * controllers and syncs this cluster's path (`names.gitopsPath`), whose kustomization.yaml
 * lists only flux-system/: these objects and the layer Kustomizations, which apply the other
 * folders in dependsOn order. node-bootstrap creates both at first boot from the same
 * platform-config definitions (FLUX_INSTANCE_NAMES, FLUX_COMPONENTS, FLUX_OPERATOR_VALUES,
 * fluxGitSync: path, URL, and the Git Secret only when `gitops.auth` is `token`); from then on
 * Flux applies them from Git, so no `flux bootstrap` is ever run.
 */
export class Flux extends HelmAddOn<FluxProps> {
  readonly id = 'flux';
  readonly layer = 'flux-system' as const;
  readonly release = FLUX_OPERATOR_RELEASE;

  protected defaults(): FluxProps {
    return { values: {} };
  }

  /** The values node-bootstrap installed it with (platform-config), so the takeover keeps its placement. */
  protected chartValues(): Record<string, unknown> {
    return structuredClone(FLUX_OPERATOR_VALUES) as Record<string, unknown>;
  }

  protected override extraObjects(chart: Chart, _props: FluxProps, ctx: AddOnContext): void {
    const sync = fluxGitSync(ctx.cluster, ctx.platform.settings, ctx.names);
    new FluxInstance(chart, 'Instance', {
      metadata: { name: FLUX_INSTANCE_NAMES.name, namespace: FLUX_INSTANCE_NAMES.namespace },
      spec: {
        distribution: { version: FLUX_INSTANCE.distributionVersion, registry: FLUX_INSTANCE.registry },
        components: FLUX_COMPONENTS.map((component) => component as FluxInstanceSpecComponents),
        cluster: { type: FluxInstanceSpecClusterType.KUBERNETES, size: FluxInstanceSpecClusterSize.MEDIUM, multitenant: false, networkPolicy: true, domain: 'cluster.local' },
        kustomize: {
          patches: [{ target: { kind: 'Deployment' }, patch: stringify([{ op: 'add', path: '/spec/template/spec/tolerations', value: fastEvictionTolerations(30) }]) }],
        },
        sync: { ...sync, kind: FluxInstanceSpecSyncKind.GIT_REPOSITORY },
      },
    });
  }
}
