import type { AddOnContext } from '../addon';
import { versionsFor } from '@platform/core-addons';
import { CLUSTER_AUTOSCALER_RELEASE } from '../releases';
import { CONTROL_PLANE_NODE_SELECTOR, CONTROL_PLANE_TOLERATIONS, FAST_EVICTION_SECONDS, fastEvictionTolerations, zoneSpread } from '../scheduling';
import { AwsCloudControllerManager } from './cloud-controller';
import { Cilium } from './cilium';
import { envMap, stagedWebIdentity } from '../web-identity';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface ClusterAutoscalerProps extends HelmAddOnProps {
  /** Leader-elected replicas, in different zones. @default 2 */
  readonly replicas: number;
  /** How to pick a node group to grow. @default 'least-waste' */
  readonly expander: 'least-waste' | 'random' | 'most-pods' | 'priority' | 'price';
  /** How long a node must be unneeded before removal. @default '10m' */
  readonly scaleDownUnneededTime: string;
}

/**
 * cluster-autoscaler with ASG auto-discovery by the cluster's discovery tags (the same
 * `names.autoscalerDiscoveryTags` aws-cluster puts on every worker ASG), one ASG per pool
 * and AZ balanced with `--balance-similar-node-groups`. Runs on control-plane nodes (stable,
 * on-demand) with its own workload role (`cluster-autoscaler`), not host networking: the pod
 * network reaches STS, and IMDS (the node role) stays out of its reach.
 */
export class ClusterAutoscaler extends HelmAddOn<ClusterAutoscalerProps> {
  readonly id = 'cluster-autoscaler';
  readonly layer = 'infra-controllers' as const;
  readonly release = CLUSTER_AUTOSCALER_RELEASE;
  override readonly dependencies = [Cilium, AwsCloudControllerManager];
  override readonly awsIdentity = 'cluster-autoscaler' as const;

  protected defaults(): ClusterAutoscalerProps {
    return { replicas: 2, expander: 'least-waste', scaleDownUnneededTime: '10m', values: {} };
  }

  protected override check(props: ClusterAutoscalerProps, ctx: AddOnContext): void {
    this.checkControlPlaneReplicas(props.replicas, ctx);
  }

  protected chartValues(props: ClusterAutoscalerProps, ctx: AddOnContext): Record<string, unknown> {
    // The chart sets AWS_REGION from awsRegion.
    const aws = stagedWebIdentity(ctx, this.awsIdentity, { regionFromChart: true });
    return {
      cloudProvider: 'aws',
      awsRegion: ctx.cluster.region,
      autoDiscovery: { clusterName: ctx.cluster.name, tags: [...ctx.names.autoscalerDiscoveryTags] },
      image: { tag: versionsFor(ctx.cluster).clusterAutoscaler },
      replicaCount: props.replicas,
      ...(aws
        ? {
            rbac: { serviceAccount: { create: true, name: aws.identity.serviceAccount, annotations: { ...aws.serviceAccountAnnotations } } },
            extraEnv: envMap(aws.env),
            extraVolumes: [aws.volume],
            extraVolumeMounts: [aws.volumeMount],
          }
        : // Before the web-identity stage: the control-plane role through IMDS, one hop away only on the host network.
          { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }),
      nodeSelector: { ...CONTROL_PLANE_NODE_SELECTOR },
      tolerations: [...CONTROL_PLANE_TOLERATIONS, ...fastEvictionTolerations(FAST_EVICTION_SECONDS)],
      topologySpreadConstraints: zoneSpread({ 'app.kubernetes.io/instance': this.release.name }),
      podDisruptionBudget: { maxUnavailable: 1 },
      priorityClassName: 'system-cluster-critical',
      extraArgs: {
        'balance-similar-node-groups': true,
        // EBS CSI labels nodes with their zone; without this, per-AZ groups never count as similar.
        'balancing-ignore-label': 'topology.ebs.csi.aws.com/zone',
        expander: props.expander,
        'leader-elect': true,
        'skip-nodes-with-system-pods': false,
        'scale-down-unneeded-time': props.scaleDownUnneededTime,
        'max-node-provision-time': '10m',
      },
    };
  }
}
