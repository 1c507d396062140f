import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { AddOnBase, type AddOnContext } from '../addon';
import { versionsFor } from '@platform/core-addons';
import { CONTROL_PLANE_LABEL, fastEvictionTolerations, zoneSpread } from '../scheduling';
import { Cilium } from './cilium';

export interface CoreDnsProps {
  /** @default the number of Availability Zones (at least 2) */
  readonly replicas: number;
  /** Seconds before pods leave an unreachable node. @default 30 */
  readonly tolerationSeconds: number;
}

/** kubeadm's CoreDNS objects: the Deployment selector is immutable, so these must match. */
const COREDNS = { name: 'coredns', namespace: 'kube-system', selector: { 'k8s-app': 'kube-dns' }, configMap: 'coredns', serviceAccount: 'coredns' } as const;

/**
 * CoreDNS spread over zones with a PDB. kubeadm installs CoreDNS (Flux itself needs DNS to
 * fetch this repository, so it cannot come from Flux); this add-on re-declares kubeadm's
 * `coredns` Deployment in full, same name and selector, and Flux's server-side apply takes
 * over the fields. A full object rather than a partial patch so schema validation and
 * ha-check see the real workload; a HelmRelease cannot adopt objects Helm did not create.
 * The Corefile ConfigMap and kube-dns Service stay kubeadm's. `kubeadm upgrade` rewrites the
 * Deployment; Flux restores it on its next reconcile.
 */
export class CoreDns extends AddOnBase<CoreDnsProps> {
  readonly id = 'coredns';
  readonly layer = 'infra-controllers' as const;
  override readonly dependencies = [Cilium];

  protected defaults(ctx: AddOnContext): CoreDnsProps {
    return { replicas: Math.max(2, ctx.cluster.availabilityZones.length), tolerationSeconds: 30 };
  }

  protected override check(props: CoreDnsProps, ctx: AddOnContext): void {
    const zones = ctx.cluster.availabilityZones.length;
    if (!Number.isInteger(props.replicas) || props.replicas < Math.max(2, zones)) {
      this.fail('replicas', props.replicas, `expected a whole number ≥ ${Math.max(2, zones)} (at least one per Availability Zone)`);
    }
    if (!Number.isInteger(props.tolerationSeconds) || props.tolerationSeconds < 1 || props.tolerationSeconds > 300) {
      this.fail('tolerationSeconds', props.tolerationSeconds, 'expected 1 to 300 seconds');
    }
  }

  protected render(chart: Chart, props: CoreDnsProps, ctx: AddOnContext): void {
    const labels = { ...COREDNS.selector };
    const metadata = { name: COREDNS.name, namespace: COREDNS.namespace, labels };
    const port = (name: string, containerPort: number, protocol: string) => ({ name, containerPort, protocol });
    new k8s.KubeDeployment(chart, 'Deployment', {
      metadata,
      spec: {
        replicas: props.replicas,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1), maxSurge: k8s.IntOrString.fromString('25%') } },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: COREDNS.serviceAccount,
            dnsPolicy: 'Default',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: CONTROL_PLANE_LABEL, operator: 'Exists', effect: 'NoSchedule' }, ...fastEvictionTolerations(props.tolerationSeconds)],
            topologySpreadConstraints: zoneSpread(labels),
            containers: [
              {
                name: 'coredns',
                image: `registry.k8s.io/coredns/coredns:${versionsFor(ctx.cluster).coredns}`,
                args: ['-conf', '/etc/coredns/Corefile'],
                resources: { requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('70Mi') }, limits: { memory: k8s.Quantity.fromString('170Mi') } },
                ports: [port('dns', 53, 'UDP'), port('dns-tcp', 53, 'TCP'), port('metrics', 9153, 'TCP')],
                livenessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(8080), scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: k8s.IntOrString.fromNumber(8181), scheme: 'HTTP' }, periodSeconds: 5 },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: COREDNS.configMap, items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    });
    new k8s.KubePodDisruptionBudget(chart, 'Pdb', {
      metadata,
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: labels } },
    });
  }
}
