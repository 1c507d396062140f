import { describe, expect, it } from 'vitest';
import { CILIUM_OPERATOR_LABELS, CLOUD_CONTROLLER_IMAGE, ciliumValues, cloudControllerImageTag, cloudControllerValues, CNI, defaultPlatform, FAST_EVICTION_SECONDS, SUPPORTED_KUBERNETES_MINORS } from './index';

const production = defaultPlatform().cluster('production');

describe('core add-on values (installed at first boot, adopted by Flux)', () => {
  it('pins a cloud controller image for every supported Kubernetes minor', () => {
    expect(Object.keys(CLOUD_CONTROLLER_IMAGE.tagByMinor).sort()).toEqual([...SUPPORTED_KUBERNETES_MINORS].sort());
  });

  it('refuses a Kubernetes minor without a pinned cloud controller image, naming the cluster and the version', () => {
    expect(() => cloudControllerImageTag({ name: 'old', kubernetesVersion: '1.29.4' })).toThrow(
      `cluster old: kubernetesVersion 1.29.4 has no pinned cloud controller image; expected a minor in ${Object.keys(CLOUD_CONTROLLER_IMAGE.tagByMinor).join(', ')}`,
    );
  });

  it('runs Cilium over the cluster pod CIDR on the VXLAN port the security groups open, beside kube-proxy', () => {
    const values = ciliumValues(production);
    expect(values.ipam.operator.clusterPoolIPv4PodCIDRList).toEqual([production.clusterNetwork.podCidr]);
    expect(values.tunnelPort).toBe(CNI.nodePorts.find((p) => p.protocol === 'udp')?.port);
    expect(values).toMatchObject({ cluster: { name: 'production' }, routingMode: 'tunnel', kubeProxyReplacement: false, operator: { replicas: 2 } });
    expect(ciliumValues(production, { operatorReplicas: 3, hubble: false })).toMatchObject({ operator: { replicas: 3 }, hubble: { enabled: false } });
  });

  it('spreads the Cilium operator over zones and lets it leave an unreachable node after FAST_EVICTION_SECONDS, keeping not-ready unlimited for first boot', () => {
    const { operator } = ciliumValues(production);
    expect(operator.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { ...CILIUM_OPERATOR_LABELS } } },
    ]);
    expect(operator.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS },
    ]);
    expect(FAST_EVICTION_SECONDS).toBe(30);
    expect(operator.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
  });

  it('runs the cloud controller leader-elected on control-plane nodes, before they are initialised', () => {
    const values = cloudControllerValues(production);
    expect(values.args).toEqual(['--v=2', '--cloud-provider=aws', '--cluster-name=production', '--configure-cloud-routes=false', '--leader-elect=true']);
    expect(values.nodeSelector).toEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(values.tolerations.map((t) => t.key)).toEqual(['node.cloudprovider.kubernetes.io/uninitialized', 'node-role.kubernetes.io/control-plane']);
  });
});
