import { sqsQueueUrl } from '@platform/platform-config';
import type { AddOnContext } from '../addon';
import type { HelmReleaseSpecPostRenderers } from '../imports/helm.toolkit.fluxcd.io';
import { NODE_TERMINATION_HANDLER_RELEASE } from '../releases';
import { CONTROL_PLANE_NODE_SELECTOR, CONTROL_PLANE_TOLERATIONS, FAST_EVICTION_SECONDS, fastEvictionTolerations, zoneSpread } from '../scheduling';
import { AwsCloudControllerManager } from './cloud-controller';
import { Cilium } from './cilium';
import { HOST_NETWORK_PATCH, stagedWebIdentity } from '../web-identity';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface NodeTerminationHandlerProps extends HelmAddOnProps {
  /** Replicas in different zones (each reads the queue; SQS hides a message one reader holds). @default 2 */
  readonly replicas: number;
  /** Seconds a node gets to drain before an event's deadline (the chart's `nodeTerminationGracePeriod`). @default 120 */
  readonly nodeTerminationGracePeriodSeconds: number;
}

/**
 * The AWS Node Termination Handler in queue-processor mode: it reads aws-cluster's
 * node-termination queue (ASG lifecycle actions, spot interruption warnings, rebalance
 * recommendations, stop/terminate state changes, scheduled changes), cordons and drains the
 * node respecting PDBs, then completes the ASG's lifecycle hook; for a launching control-plane
 * node it completes the launching hook once the node is Ready.
 *
 * Where it runs: on control-plane nodes, because they are on-demand and stable: the handler is
 * never on the spot worker it is draining. Its credentials are its own workload role
 * (`node-termination-handler`), not the node's: it runs on the pod network (the chart's default
 * for the queue-mode Deployment), so IMDS and the control-plane role are out of its reach. The
 * chart takes `extraEnv` but no volumes for that Deployment: a post-render patch adds the token.
 *
 * It acts only on instances carrying the cluster's ownership tag (`managedTag`): another
 * cluster's instances in the same account and region reach the queue through the EC2 rules and
 * are dropped.
 */
export class NodeTerminationHandler extends HelmAddOn<NodeTerminationHandlerProps> {
  readonly id = 'node-termination-handler';
  readonly layer = 'infra-controllers' as const;
  readonly release = NODE_TERMINATION_HANDLER_RELEASE;
  // Zone labels (spread) come from the cloud controller.
  override readonly dependencies = [Cilium, AwsCloudControllerManager];
  override readonly awsIdentity = 'node-termination-handler' as const;

  protected defaults(): NodeTerminationHandlerProps {
    return { replicas: 2, nodeTerminationGracePeriodSeconds: 120, values: {} };
  }

  protected override check(props: NodeTerminationHandlerProps, ctx: AddOnContext): void {
    this.checkControlPlaneReplicas(props.replicas, ctx);
    if (!Number.isInteger(props.nodeTerminationGracePeriodSeconds) || props.nodeTerminationGracePeriodSeconds < 1) {
      this.fail('nodeTerminationGracePeriodSeconds', props.nodeTerminationGracePeriodSeconds, 'expected a positive whole number of seconds');
    }
    if (!ctx.platform.settings.accountId) {
      this.fail('queueURL', undefined, 'expected platform-config settings.accountId: the queue URL names the account');
    }
  }

  protected chartValues(props: NodeTerminationHandlerProps, ctx: AddOnContext): Record<string, unknown> {
    const accountId = ctx.platform.settings.accountId as string; // check() requires it
    // The chart sets AWS_REGION from awsRegion.
    const aws = stagedWebIdentity(ctx, this.awsIdentity, { regionFromChart: true });
    return {
      ...(aws && { serviceAccount: { create: true, name: aws.identity.serviceAccount, annotations: { ...aws.serviceAccountAnnotations } }, extraEnv: [...aws.env] }),
      enableSqsTerminationDraining: true,
      queueURL: sqsQueueUrl(ctx.cluster.region, accountId, ctx.names.nodeTermination.queue),
      awsRegion: ctx.cluster.region,
      checkTagBeforeDraining: true,
      managedTag: ctx.names.clusterTagKey,
      // A message about a node that is gone (already replaced) is done, not retried until it expires.
      deleteSqsMsgIfNodeNotFound: true,
      nodeTerminationGracePeriod: props.nodeTerminationGracePeriodSeconds,
      emitKubernetesEvents: true,
      replicas: props.replicas,
      // The chart renders it only with replicas > 1 (templates/pdb.yaml). One handler may go at a
      // time: draining a control-plane node evicts the one there while the other reads the queue.
      podDisruptionBudget: { maxUnavailable: 1 },
      nodeSelector: { ...CONTROL_PLANE_NODE_SELECTOR },
      tolerations: [...CONTROL_PLANE_TOLERATIONS, ...fastEvictionTolerations(FAST_EVICTION_SECONDS)],
      topologySpreadConstraints: zoneSpread(this.podLabels()),
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    };
  }

  /** The chart's selector labels of its queue-mode Deployment (templates/_helpers.tpl: name, instance, component). */
  podLabels(): Record<string, string> {
    return { 'app.kubernetes.io/name': this.release.chart, 'app.kubernetes.io/instance': this.release.name, 'app.kubernetes.io/component': 'deployment' };
  }

  protected override postRenderers(_props: NodeTerminationHandlerProps, ctx: AddOnContext): HelmReleaseSpecPostRenderers[] {
    const aws = stagedWebIdentity(ctx, this.awsIdentity, { regionFromChart: true });
    // The chart renders volumes and volumeMounts only for a webhook template, which is not set: `add` creates them.
    // Before the web-identity stage: the host network instead, to reach the control-plane role through IMDS.
    const patch = aws
      ? [
          { op: 'add', path: '/spec/template/spec/volumes', value: [aws.volume] },
          { op: 'add', path: '/spec/template/spec/containers/0/volumeMounts', value: [aws.volumeMount] },
        ]
      : HOST_NETWORK_PATCH;
    return [{ kustomize: { patches: [{ target: { kind: 'Deployment', name: this.release.name }, patch: JSON.stringify(patch) }] } }];
  }
}
