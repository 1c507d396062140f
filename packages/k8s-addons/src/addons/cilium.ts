import { ciliumValues } from '@platform/platform-config';
import type { AddOnContext } from '../addon';
import { CILIUM_RELEASE } from '../releases';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface CiliumProps extends HelmAddOnProps {
  /** Cilium operator replicas (IPAM, garbage collection); leader-elected. @default 2 */
  readonly operatorReplicas: number;
  /** Hubble flow visibility (its port is opened by aws-cluster from CNI.nodePorts). @default true */
  readonly hubble: boolean;
}

/**
 * The CNI: Cilium in VXLAN tunnel mode with cluster-pool IPAM over the cluster's pod CIDR,
 * alongside kubeadm's kube-proxy. node-bootstrap installs the same release at first boot;
 * this HelmRelease takes it over with the same values (platform-config `ciliumValues`).
 */
export class Cilium extends HelmAddOn<CiliumProps> {
  readonly id = 'cilium';
  readonly layer = 'infra-controllers' as const;
  readonly release = CILIUM_RELEASE;

  protected defaults(): CiliumProps {
    return { operatorReplicas: 2, hubble: true, values: {} };
  }

  protected override check(props: CiliumProps): void {
    if (!Number.isInteger(props.operatorReplicas) || props.operatorReplicas < 2) {
      this.fail('operatorReplicas', props.operatorReplicas, 'expected a whole number ≥ 2 so IPAM survives a node loss');
    }
  }

  protected chartValues(props: CiliumProps, ctx: AddOnContext): Record<string, unknown> {
    // The values node-bootstrap installed Cilium with: adopting the release changes nothing.
    return ciliumValues(ctx.cluster, { operatorReplicas: props.operatorReplicas, hubble: props.hubble });
  }

}
