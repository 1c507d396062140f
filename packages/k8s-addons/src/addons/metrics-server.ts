import type { AddOnContext } from '../addon';
import { METRICS_SERVER_RELEASE } from '../releases';
import { FAST_EVICTION_SECONDS, fastEvictionTolerations, zoneSpread } from '../scheduling';
import { Cilium } from './cilium';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface MetricsServerProps extends HelmAddOnProps {
  /** @default 2 */
  readonly replicas: number;
}

/** metrics-server for HPAs: two replicas in different zones and a PDB, so scaling survives an AZ loss. */
export class MetricsServer extends HelmAddOn<MetricsServerProps> {
  readonly id = 'metrics-server';
  readonly layer = 'infra-controllers' as const;
  readonly release = METRICS_SERVER_RELEASE;
  override readonly dependencies = [Cilium];

  protected defaults(): MetricsServerProps {
    return { replicas: 2, values: {} };
  }

  protected override check(props: MetricsServerProps): void {
    if (!Number.isInteger(props.replicas) || props.replicas < 2) this.fail('replicas', props.replicas, 'expected a whole number ≥ 2');
  }

  protected chartValues(props: MetricsServerProps, _ctx: AddOnContext): Record<string, unknown> {
    return {
      replicas: props.replicas,
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      // Kubelets serve certificates the cluster CA signed (kubeadm serverTLSBootstrap, approved by
      // node-bootstrap's kubelet-serving-approver), naming their InternalIP: verified, no --kubelet-insecure-tls.
      args: ['--kubelet-preferred-address-types=InternalIP'],
      topologySpreadConstraints: zoneSpread({ 'app.kubernetes.io/instance': this.release.name }),
      tolerations: fastEvictionTolerations(FAST_EVICTION_SECONDS),
      priorityClassName: 'system-cluster-critical',
    };
  }
}
