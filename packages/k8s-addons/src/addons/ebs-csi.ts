import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { AddOnContext } from '../addon';
import type { HelmReleaseSpecPostRenderers } from '../imports/helm.toolkit.fluxcd.io';
import { EBS_CSI_RELEASE } from '../releases';
import { CONTROL_PLANE_NODE_SELECTOR, CONTROL_PLANE_TOLERATIONS, fastEvictionTolerations, zoneSpreadWithoutSelector } from '../scheduling';
import { AwsCloudControllerManager } from './cloud-controller';
import { Cilium } from './cilium';
import { HOST_NETWORK_PATCH, stagedWebIdentity } from '../web-identity';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface EbsCsiProps extends HelmAddOnProps {
  /** Controller replicas, spread over zones on control-plane nodes. @default 2 */
  readonly controllerReplicas: number;
  /** Name of the default gp3 StorageClass. @default 'gp3' */
  readonly storageClassName: string;
}

/** The default StorageClass other add-ons (monitoring, PostgreSQL) request. */
export const GP3_STORAGE_CLASS = 'gp3';

/**
 * EBS CSI driver plus a default, encrypted gp3 StorageClass with `WaitForFirstConsumer`:
 * EBS volumes are zonal, so a volume is created only once its pod has a zone. The
 * controller runs on control-plane nodes with its own workload role (`ebs-csi-controller`):
 * only the controller's driver container gets the token and the variables; the node DaemonSet
 * calls no AWS API that needs credentials (it reads its instance's metadata) and gets none. The
 * controller no longer runs with host networking, which only served to reach the node role.
 */
export class EbsCsiDriver extends HelmAddOn<EbsCsiProps> {
  readonly id = 'aws-ebs-csi-driver';
  readonly layer = 'infra-controllers' as const;
  readonly release = EBS_CSI_RELEASE;
  override readonly dependencies = [Cilium, AwsCloudControllerManager];
  override readonly awsIdentity = 'ebs-csi-controller' as const;

  protected defaults(): EbsCsiProps {
    return { controllerReplicas: 2, storageClassName: GP3_STORAGE_CLASS, values: {} };
  }

  protected override check(props: EbsCsiProps): void {
    if (!Number.isInteger(props.controllerReplicas) || props.controllerReplicas < 2) {
      this.fail('controllerReplicas', props.controllerReplicas, 'expected a whole number ≥ 2 (one per zone survives an AZ loss)');
    }
  }

  protected chartValues(props: EbsCsiProps, ctx: AddOnContext): Record<string, unknown> {
    // The chart sets AWS_REGION from controller.region.
    const aws = stagedWebIdentity(ctx, this.awsIdentity, { regionFromChart: true });
    return {
      controller: {
        region: ctx.cluster.region,
        ...(aws && {
          serviceAccount: { create: true, name: aws.identity.serviceAccount, annotations: { ...aws.serviceAccountAnnotations } },
          env: [...aws.env],
          volumes: [aws.volume],
          volumeMounts: [aws.volumeMount],
        }),
        replicaCount: props.controllerReplicas,
        // The driver tags what it creates `kubernetes.io/cluster/<this>=owned` (platform-config
        // CLUSTER_TAG_PREFIX + name = names.clusterTagKey): its workload role lets it
        // change or delete only volumes and snapshots with that tag (aws-cluster workload-policies).
        k8sTagClusterId: ctx.names.cluster,
        nodeSelector: { ...CONTROL_PLANE_NODE_SELECTOR },
        tolerations: [...CONTROL_PLANE_TOLERATIONS, ...fastEvictionTolerations(30)],
        topologySpreadConstraints: zoneSpreadWithoutSelector(),
      },
      node: { tolerateAllTaints: true },
      storageClasses: [],
    };
  }

  /** Before the web-identity stage: the controller on the host network, to reach the control-plane role (the chart has no value for it). */
  protected override postRenderers(_props: EbsCsiProps, ctx: AddOnContext): HelmReleaseSpecPostRenderers[] | undefined {
    if (stagedWebIdentity(ctx, this.awsIdentity)) return undefined;
    return [{ kustomize: { patches: [{ target: { kind: 'Deployment', name: 'ebs-csi-controller' }, patch: JSON.stringify(HOST_NETWORK_PATCH) }] } }];
  }

  protected override extraObjects(chart: Chart, props: EbsCsiProps): void {
    new k8s.KubeStorageClass(chart, 'Gp3', {
      metadata: { name: props.storageClassName, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'ebs.csi.aws.com',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
      parameters: { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4' },
    });
  }
}
