import { CLOUD_CONTROLLER_CONFIG, CNI, defaultPlatform, loadPlatform, platformInput, ServiceAccountIdentity, SUPPORTED_KUBERNETES_MINORS, WEB_IDENTITY_TOKEN } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ciliumValues,
  CLOUD_CONTROLLER_UID,
  cloudControllerValues,
  CORE_ADDONS,
  FAST_EVICTION_SECONDS,
  FLUX_INSTANCE_NAMES,
  FLUX_OPERATOR_VALUES,
  fluxGitSync,
  fluxInstance,
  VERSIONS_BY_KUBERNETES_MINOR,
  versionsFor,
} from '../src';

const platform = defaultPlatform();
const production = platform.cluster('production');

describe('pins', () => {
  it('pins every core add-on chart to an exact version', () => {
    for (const chart of [CORE_ADDONS.cilium, CORE_ADDONS.awsCloudController, CORE_ADDONS.fluxOperator]) {
      expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('has one version row for every supported Kubernetes minor', () => {
    expect(Object.keys(VERSIONS_BY_KUBERNETES_MINOR).sort()).toEqual([...SUPPORTED_KUBERNETES_MINORS].sort());
  });

  it('refuses a Kubernetes minor without pinned versions, naming the cluster and the version', () => {
    expect(() => versionsFor({ name: 'old', kubernetesVersion: '1.29.4' })).toThrow(
      `cluster old: kubernetesVersion 1.29.4 has no pinned versions; expected a minor in ${Object.keys(VERSIONS_BY_KUBERNETES_MINOR).join(', ')}`,
    );
  });
});

describe('first-boot values', () => {
  it('runs Cilium over the cluster pod CIDR on the VXLAN port the security groups open, beside kube-proxy', () => {
    const values = ciliumValues(production);
    expect(values.ipam.operator.clusterPoolIPv4PodCIDRList).toEqual([production.clusterNetwork.podCidr]);
    expect(values.tunnelPort).toBe(CNI.nodePorts.find((p) => p.protocol === 'udp')?.port);
    expect(values).toMatchObject({ cluster: { name: 'production' }, routingMode: 'tunnel', kubeProxyReplacement: false, operator: { replicas: 2 } });
  });

  it('lets the Cilium operator leave an unreachable node after FAST_EVICTION_SECONDS, keeping not-ready unlimited for first boot', () => {
    const { operator } = ciliumValues(production);
    expect(operator.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS },
    ]);
    expect(FAST_EVICTION_SECONDS).toBe(30);
    expect(operator.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
  });

  it('runs the cloud controller leader-elected on control-plane nodes with the image of the cluster minor', () => {
    const values = cloudControllerValues(production, platform.settings, platform.namesOf(production));
    expect(values.args).toEqual(['--v=2', '--cloud-provider=aws', '--cluster-name=production', '--configure-cloud-routes=false', '--leader-elect=true', `--cloud-config=${CLOUD_CONTROLLER_CONFIG.path}`]);
    expect(values.nodeSelector).toEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(values.image.tag).toBe(versionsFor(production).cloudController);
    expect(values.podSecurityContext).toEqual({ runAsUser: CLOUD_CONTROLLER_UID, runAsGroup: CLOUD_CONTROLLER_UID, runAsNonRoot: true });
    expect([0, 65534]).not.toContain(CLOUD_CONTROLLER_UID);
  });

  it('wires the cloud controller’s own role itself at web identity (no webhook runs before it), and never IMDS', () => {
    const names = platform.namesOf(production);
    const values = cloudControllerValues(production, platform.settings, names);
    const role = `arn:aws:iam::${platform.settings.accountId}:role/${names.serviceAccountIssuer.workloadRole('cloud-controller')}`;
    // The account the role's trust names (the chart's default, set explicitly).
    expect('serviceAccountName' in values && values.serviceAccountName).toBe('cloud-controller-manager');
    expect('env' in values && values.env).toEqual([
      { name: 'AWS_ROLE_ARN', value: role },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${WEB_IDENTITY_TOKEN.mountPath}/token` },
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
      { name: 'AWS_REGION', value: 'ap-northeast-2' },
      { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
    ]);
    expect('extraVolumes' in values && values.extraVolumes).toEqual([
      { name: WEB_IDENTITY_TOKEN.volume, projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 3600, path: 'token' } }] } },
      { name: CLOUD_CONTROLLER_CONFIG.volume, hostPath: { path: CLOUD_CONTROLLER_CONFIG.path, type: 'File' } },
    ]);
    expect('extraVolumeMounts' in values && values.extraVolumeMounts).toEqual([
      { name: WEB_IDENTITY_TOKEN.volume, mountPath: WEB_IDENTITY_TOKEN.mountPath, readOnly: true },
      { name: CLOUD_CONTROLLER_CONFIG.volume, mountPath: CLOUD_CONTROLLER_CONFIG.path, readOnly: true },
    ]);
  });

  it('keeps the cloud controller on the control-plane role through IMDS before the web-identity stage', () => {
    const before = { ...production, serviceAccountIdentity: ServiceAccountIdentity.signWithIssuer() };
    const values = cloudControllerValues(before, platform.settings, platform.namesOf(production));
    expect(values).not.toHaveProperty('env');
    expect(values).not.toHaveProperty('extraVolumes');
    expect(values.args).not.toContain(`--cloud-config=${CLOUD_CONTROLLER_CONFIG.path}`);
    expect(values.hostNetworking).toBe(true);
  });

  it('refuses web identity without the account id its role ARN names', () => {
    expect(() => cloudControllerValues(production, {}, platform.namesOf(production))).toThrow(
      "cluster production: the cloud controller's web identity needs platform-config settings.accountId (its role ARN names the account)",
    );
  });
});

describe('FluxInstance', () => {
  it('defaults to a private repository read with the Git Secret', () => {
    expect(production.gitops.auth).toBe('token');
    expect(fluxGitSync(production, platform.settings, platform.namesOf('production'))).toEqual({
      kind: 'GitRepository',
      name: 'flux-system',
      url: 'https://github.com/hakube-platform/ha-kube-platform.git',
      ref: 'refs/heads/deploy/production',
      path: 'clusters/production',
      interval: '5m',
      pullSecret: FLUX_INSTANCE_NAMES.gitSecret,
    });
  });

  it('follows each cluster\'s deploy ref, never main: manifests go live only once the pipeline moved it', () => {
    for (const cluster of platform.clusters) {
      expect(fluxGitSync(cluster, platform.settings, platform.namesOf(cluster)).ref).toBe(`refs/heads/deploy/${cluster.name}`);
    }
  });

  it('names no Secret for a public repository (gitops.auth none)', () => {
    const input = structuredClone(platformInput);
    const staging = input.clusters.find((c) => c.name === 'staging');
    if (!staging) throw new Error('staging missing from the shipped platform');
    staging.gitops = { ...staging.gitops, auth: 'none' };
    const loaded = loadPlatform(input);
    const sync = fluxGitSync(loaded.cluster('staging'), loaded.settings, loaded.namesOf('staging'));
    expect(sync).not.toHaveProperty('pullSecret');
    expect(sync).toMatchObject({ path: 'clusters/staging', url: 'https://github.com/hakube-platform/ha-kube-platform.git' });
  });

  it('gives the Flux controllers the control-plane toleration and fast eviction through one kustomize patch', () => {
    const { spec } = fluxInstance(production, platform.settings, platform.namesOf('production'));
    expect(spec.kustomize.patches).toHaveLength(1);
    const [patch] = parse(spec.kustomize.patches[0]!.patch) as { path: string; value: unknown[] }[];
    expect(patch!.path).toBe('/spec/template/spec/tolerations');
    expect(patch!.value).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' });
    expect(FLUX_OPERATOR_VALUES.tolerations).toContainEqual({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS });
  });
});
