import type { Chart } from 'cdk8s';
import type { AddOnContext } from '../addon';
import { ownNamespace } from '../private/namespace';
import { CLOUDNATIVE_PG_RELEASE } from '../releases';
import { fastEvictionTolerations } from '../scheduling';
import { Cilium } from './cilium';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export type CloudNativePgProps = HelmAddOnProps;

/** The CloudNativePG operator (CRDs included); PostgreSQL clusters are app-layer add-ons. */
export class CloudNativePgOperator extends HelmAddOn<CloudNativePgProps> {
  readonly id = 'cloudnative-pg';
  readonly layer = 'infra-controllers' as const;
  readonly release = CLOUDNATIVE_PG_RELEASE;
  override readonly dependencies = [Cilium];

  protected defaults(): CloudNativePgProps {
    return { values: {} };
  }

  protected override extraObjects(chart: Chart): void {
    ownNamespace(chart, this.release.namespace);
  }

  protected chartValues(_props: CloudNativePgProps, _ctx: AddOnContext): Record<string, unknown> {
    // The operator is not in the data path: one replica, replaced quickly when its node dies.
    return { replicaCount: 1, tolerations: fastEvictionTolerations(30), crds: { create: true } };
  }
}
