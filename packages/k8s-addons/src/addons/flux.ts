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
 * folders in dependsOn order. node-bootstrap creates both at first boot with the same names,
 * path and Git Secret; from then on Flux applies them from Git, so no `flux bootstrap` is ever run.
 */
export class Flux extends HelmAddOn<FluxProps> {
  readonly id = 'flux';
  readonly layer = 'flux-system' as const;
  readonly release = FLUX_OPERATOR_RELEASE;

  protected defaults(): FluxProps {
    return { values: {} };
  }

  protected chartValues(): Record<string, unknown> {
    return { tolerations: fastEvictionTolerations(30) };
  }

  protected override extraObjects(chart: Chart, _props: FluxProps, ctx: AddOnContext): void {
    const { github } = ctx.platform.settings;
    new FluxInstance(chart, 'Instance', {
      metadata: { name: FLUX_INSTANCE.name, namespace: FLUX_INSTANCE.namespace },
      spec: {
        distribution: { version: FLUX_INSTANCE.distributionVersion, registry: FLUX_INSTANCE.registry },
        components: [
          FluxInstanceSpecComponents.SOURCE_HYPHEN_CONTROLLER,
          FluxInstanceSpecComponents.KUSTOMIZE_HYPHEN_CONTROLLER,
          FluxInstanceSpecComponents.HELM_HYPHEN_CONTROLLER,
          FluxInstanceSpecComponents.NOTIFICATION_HYPHEN_CONTROLLER,
        ],
        cluster: { type: FluxInstanceSpecClusterType.KUBERNETES, size: FluxInstanceSpecClusterSize.MEDIUM, multitenant: false, networkPolicy: true, domain: 'cluster.local' },
        kustomize: {
          patches: [{ target: { kind: 'Deployment' }, patch: stringify([{ op: 'add', path: '/spec/template/spec/tolerations', value: fastEvictionTolerations(30) }]) }],
        },
        sync: {
          kind: FluxInstanceSpecSyncKind.GIT_REPOSITORY,
          name: FLUX_INSTANCE.syncName,
          url: `https://github.com/${github.owner}/${github.repository}.git`,
          ref: `refs/heads/${ctx.cluster.gitops.branch}`,
          path: ctx.names.gitopsPath,
          interval: `${ctx.cluster.gitops.intervalMinutes}m`,
          pullSecret: FLUX_INSTANCE.pullSecret,
        },
      },
    });
  }
}
