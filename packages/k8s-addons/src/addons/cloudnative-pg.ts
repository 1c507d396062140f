import type { Chart } from 'cdk8s';
import type { AddOnContext } from '../addon';
import { ownNamespace } from '../private/namespace';
import { CLOUDNATIVE_PG_RELEASE } from '../releases';
import { FAST_EVICTION_SECONDS, fastEvictionTolerations, ZONE_KEY } from '../scheduling';
import { Cilium } from './cilium';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface CloudNativePgProps extends HelmAddOnProps {
  /**
   * Operator replicas, one per zone (the operator is leader-elected: a standby takes the lease
   * when the leader's zone is lost, so a PostgreSQL primary failover there does not wait for a
   * reschedule). @default 2 (1 with two AZs)
   */
  readonly replicas: number;
}

/** The CloudNativePG operator (CRDs included); PostgreSQL clusters are app-layer add-ons. */
export class CloudNativePgOperator extends HelmAddOn<CloudNativePgProps> {
  readonly id = 'cloudnative-pg';
  readonly layer = 'infra-controllers' as const;
  readonly release = CLOUDNATIVE_PG_RELEASE;
  override readonly dependencies = [Cilium];

  protected defaults(ctx: AddOnContext): CloudNativePgProps {
    return { replicas: Math.max(1, Math.min(2, ctx.cluster.availabilityZones.length - 1)), values: {} };
  }

  protected override check(props: CloudNativePgProps, ctx: AddOnContext): void {
    const most = ctx.cluster.availabilityZones.length - 1;
    if (!Number.isInteger(props.replicas) || props.replicas < 1 || props.replicas > Math.max(1, most)) {
      this.fail('replicas', props.replicas, `expected 1 to ${Math.max(1, most)} (one per zone, leaving a zone free for a rolling update and for the pod of a lost zone)`);
    }
  }

  protected override extraObjects(chart: Chart): void {
    ownNamespace(chart, this.release.namespace);
  }

  protected chartValues(props: CloudNativePgProps, _ctx: AddOnContext): Record<string, unknown> {
    const podLabels = { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': this.release.name };
    return {
      replicaCount: props.replicas,
      // The 0.29 chart renders `affinity` but has no topology-spread value: a required zone
      // anti-affinity puts each replica in its own zone.
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: ZONE_KEY, labelSelector: { matchLabels: podLabels } }] } },
      tolerations: fastEvictionTolerations(FAST_EVICTION_SECONDS),
      crds: { create: true },
    };
  }
}
