/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk parsed YAML of many shapes */
import { ciliumValues, CILIUM_OPERATOR_LABELS, CORE_ADDONS, firstBootAddOns, FLUX_INSTANCE_NAMES, fluxGitSync, VERSIONS_BY_KUBERNETES_MINOR } from '@platform/core-addons';
import { ALERT_RECEIVER_SECRET, ETCD_SNAPSHOT_METRIC, NODE_EXPORTER_TEXTFILE_DIR, CLUSTER_TAG_PREFIX, ETCD_METRICS_PORT, NODE_EXPORTER_PORT, APP_CATALOG, defaultPlatform, loadPlatform, platformInput } from '@platform/platform-config';
import { Chart, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  AddOnBase,
  addOnContext,
  AddOnRegistry,
  availabilityAlerts,
  Cilium,
  CILIUM_RELEASE,
  CloudNativePgOperator,
  ClusterAutoscaler,
  CoreDns,
  defaultAddOns,
  EbsCsiDriver,
  FAST_EVICTION_SECONDS,
  fastEvictionTolerations,
  Flux,
  FLUX_INSTANCE,
  FLUX_OPERATOR_RELEASE,
  HaWorkload,
  MetricsServer,
  Monitoring,
  NODE_EXPORTER_ARGS,
  PostgresCluster,
  synthClusterTree,
  type ClusterTree,
} from '../src';

const platform = defaultPlatform();
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };
const trees = new Map<string, ClusterTree>();
function objects(cluster: string, file: string): Obj[] {
  if (!trees.has(cluster)) trees.set(cluster, synthClusterTree(platform, cluster));
  const content = trees.get(cluster)![file];
  if (content === undefined) throw new Error(`no ${file} in ${cluster}`);
  return parseAllDocuments(content).map((d) => d.toJS() as Obj);
}
const find = (objs: Obj[], kind: string, name?: string) => objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))!;
const values = (cluster: string, file: string) => find(objects(cluster, file), 'HelmRelease').spec.values;

describe('cluster-autoscaler', () => {
  it.each(platform.clusters.map((c) => c.name))('%s: discovers the ASGs aws-cluster tags, balances zones, least-waste, 2 replicas in different zones on control-plane nodes', (cluster) => {
    const names = platform.namesOf(cluster);
    const v = values(cluster, 'infrastructure/controllers/cluster-autoscaler.yaml');
    expect(v.autoDiscovery).toEqual({ clusterName: cluster, tags: [...names.autoscalerDiscoveryTags] });
    expect(names.autoscalerDiscoveryTags).toContain(`k8s.io/cluster-autoscaler/${cluster}`);
    expect(v.awsRegion).toBe(platform.cluster(cluster).region);
    expect(v.extraArgs).toMatchObject({ 'balance-similar-node-groups': true, expander: 'least-waste', 'leader-elect': true });
    expect(v.replicaCount).toBe(2);
    expect(v.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' });
    expect(v.nodeSelector).toEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(v.tolerations).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' });
    // Its own workload role, not the node's: no host networking (IMDS, hop limit 1, out of reach).
    expect(v.hostNetwork).toBeUndefined();
    expect(v.rbac.serviceAccount.name).toBe('cluster-autoscaler');
    // One ASG per pool and AZ: every one a node group the balancer compares.
    const cfg = platform.cluster(cluster);
    const asgs = cfg.workerPools.flatMap((p) => cfg.availabilityZones.map((az) => names.workerAsg(p, az)));
    expect(new Set(asgs).size).toBe(cfg.workerPools.length * cfg.availabilityZones.length);
  });

  it('rejects a replica count the control-plane zones cannot hold', () => {
    expect(() => new ClusterAutoscaler({ replicas: 4 }).validate(addOnContext(platform, 'production'))).toThrow('cluster-autoscaler: replicas is 4; expected 2 to 3 (one per control-plane zone, spread is DoNotSchedule)');
  });
});

describe('bootstrap-installed releases', () => {
  it('take over the releases node-bootstrap installs (core-addons CORE_ADDONS)', () => {
    const cilium = find(objects('production', 'infrastructure/controllers/cilium.yaml'), 'HelmRelease');
    expect([cilium.metadata.name, cilium.metadata.namespace, cilium.spec.releaseName, cilium.spec.chart.spec.version]).toEqual([
      CORE_ADDONS.cilium.releaseName,
      CORE_ADDONS.cilium.namespace,
      CORE_ADDONS.cilium.releaseName,
      CORE_ADDONS.cilium.version,
    ]);
    expect(CILIUM_RELEASE.version).toBe(CORE_ADDONS.cilium.version);
    const flux = objects('production', 'flux-system/flux.yaml');
    expect(find(flux, 'OCIRepository').spec.ref.tag).toBe(FLUX_OPERATOR_RELEASE.version);
    expect(find(flux, 'HelmRelease').metadata).toMatchObject({ name: CORE_ADDONS.fluxOperator.releaseName, namespace: CORE_ADDONS.fluxOperator.namespace });
  });

  it('cilium runs VXLAN over the cluster pod CIDR', () => {
    const v = values('staging', 'infrastructure/controllers/cilium.yaml');
    expect(v).toMatchObject({ routingMode: 'tunnel', tunnelProtocol: 'vxlan', tunnelPort: 8472 });
    expect(v.ipam.operator.clusterPoolIPv4PodCIDRList).toEqual([platform.cluster('staging').clusterNetwork.podCidr]);
  });

  it('the Cilium operator: replicas spread over zones (ScheduleAnyway: the first node has no zone label yet), a PDB, and leaves an unreachable node fast', () => {
    const { operator } = values('production', 'infrastructure/controllers/cilium.yaml');
    expect(operator.replicas).toBe(2);
    expect(operator.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { ...CILIUM_OPERATOR_LABELS } } },
    ]);
    expect(operator.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
    expect(operator.tolerations).toContainEqual({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS });
    // At first boot it must run on the NotReady node whose network it brings up: not-ready stays unlimited.
    expect(operator.tolerations).toContainEqual({ key: 'node.kubernetes.io/not-ready', operator: 'Exists' });
    expect(operator.tolerations.filter((t: { key?: string }) => t.key === 'node.kubernetes.io/unreachable')).toHaveLength(1);
  });

  it('the FluxInstance syncs this cluster’s path with the Git Secret node-bootstrap writes', () => {
    const sync = find(objects('dr', 'flux-system/flux.yaml'), 'FluxInstance').spec.sync;
    // The same path and Secret as the FluxInstance node-bootstrap applies at first boot (install-addons.sh
    // creates Secret flux-system/flux-system), so taking it over from Git changes neither.
    expect(sync).toMatchObject({ kind: 'GitRepository', name: 'flux-system', path: platform.namesOf('dr').gitopsPath, ref: 'refs/heads/deploy/dr', pullSecret: 'flux-system' });
    expect(sync.path).toBe('clusters/dr');
    expect(sync.url).toBe(`https://github.com/${platform.settings.github.owner}/${platform.settings.github.repository}.git`);
    expect(new Flux().layer).toBe('flux-system');
  });

  it('the FluxInstance is the one node-bootstrap applies: names, components and sync from platform-config', () => {
    const instance = find(objects('production', 'flux-system/flux.yaml'), 'FluxInstance');
    expect(instance.metadata).toEqual({ name: FLUX_INSTANCE_NAMES.name, namespace: FLUX_INSTANCE_NAMES.namespace });
    expect(instance.spec.components).toEqual(['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller']);
    expect(instance.spec.sync).toEqual(fluxGitSync(platform.cluster('production'), platform.settings, platform.namesOf('production')));
    // The layer Kustomizations' sourceRef (flux-layers.ts, via releases.ts) must name the sync's GitRepository.
    expect(FLUX_INSTANCE.syncName).toBe(instance.spec.sync.name);
  });

  it('a public repository (gitops.auth none) syncs without a pullSecret, so source-controller needs no Secret', () => {
    const input = { ...platformInput, clusters: platformInput.clusters.map((c) => (c.name === 'dr' ? { ...c, gitops: { ...c.gitops, auth: 'none' as const } } : c)) };
    const sync = find(parseAllDocuments(synthClusterTree(loadPlatform(input), 'dr')['flux-system/flux.yaml']!).map((d) => d.toJS() as Obj), 'FluxInstance').spec.sync;
    expect(sync).not.toHaveProperty('pullSecret');
    expect(sync).toMatchObject({ kind: 'GitRepository', name: 'flux-system', path: 'clusters/dr', ref: 'refs/heads/deploy/dr' });
  });

  it('core add-ons take no props: what varies per cluster comes from the cluster definition, so Git never differs from what the node installed', () => {
    // @ts-expect-error -- a prop here would change what Flux applies but not what node-bootstrap installed
    const tuned = new Cilium({ operatorReplicas: 3 });
    const rendered = new AddOnRegistry([tuned]).synth(addOnContext(platform, 'production'))['infrastructure/controllers/cilium.yaml']!;
    expect(find(parseAllDocuments(rendered).map((d) => d.toJS() as Obj), 'HelmRelease').spec.values).toEqual(ciliumValues(platform.cluster('production')));
  });

  it.each(platform.clusters.map((c) => c.name))('%s: Cilium, the cloud controller, flux-operator and the FluxInstance are, whole, core-addons’ first-boot objects', (cluster) => {
    const firstBoot = firstBootAddOns(platform.cluster(cluster), platform.settings, platform.namesOf(cluster));
    expect(values(cluster, 'infrastructure/controllers/cilium.yaml')).toEqual(firstBoot.cilium.values);
    expect(values(cluster, 'infrastructure/controllers/aws-cloud-controller-manager.yaml')).toEqual(firstBoot.cloudController.values);
    expect(values(cluster, 'flux-system/flux.yaml')).toEqual(firstBoot.fluxOperator.values);
    expect(find(objects(cluster, 'flux-system/flux.yaml'), 'FluxInstance')).toEqual(firstBoot.fluxInstance);
  });

  it('the cluster root lists only flux-system: a sync of the root applies Flux and the layers, the layers apply the rest in order', () => {
    const tree = synthClusterTree(platform, 'production');
    const resources = (path: string) => (parseAllDocuments(tree[path]!)[0]!.toJS() as { resources: string[] }).resources;
    expect(resources('kustomization.yaml')).toEqual(['flux-system']);
    expect(resources('flux-system/kustomization.yaml')).toEqual(['flux.yaml', 'region-failover-access.yaml', 'flux-layers.yaml']);
    expect(resources('infrastructure/kustomization.yaml')).toEqual(['controllers', 'configs']);
    // Kinds whose CRDs only a HelmRelease installs never reach the root sync.
    const rootKinds = ['flux-system/flux.yaml', 'flux-system/region-failover-access.yaml', 'flux-system/flux-layers.yaml'].flatMap((f) => objects('production', f).map((o) => o.kind));
    expect([...new Set(rootKinds)].sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'FluxInstance', 'HelmRelease', 'Kustomization', 'Namespace', 'OCIRepository', 'Secret', 'ServiceAccount']);
  });
});

describe('chart pinning', () => {
  it.each(platform.clusters.map((c) => c.name))('%s: every chart is an exact version (HelmRelease chart.spec.version or OCIRepository tag)', (cluster) => {
    const tree = synthClusterTree(platform, cluster);
    const all = Object.entries(tree)
      .filter(([path]) => !path.endsWith('kustomization.yaml'))
      .flatMap(([, content]) => parseAllDocuments(content).map((d) => d.toJS() as Obj));
    const releases = all.filter((o) => o.kind === 'HelmRelease');
    expect(releases.map((r) => r.metadata.name).sort()).toEqual([
      'aws-cloud-controller-manager',
      'aws-ebs-csi-driver',
      'aws-node-termination-handler',
      'cilium',
      'cloudnative-pg',
      'cluster-autoscaler',
      'flux-operator',
      'kube-prometheus-stack',
      'metrics-server',
      'traefik',
    ]);
    for (const hr of releases) {
      const version = hr.spec.chart ? hr.spec.chart.spec.version : find(all, 'OCIRepository', hr.spec.chartRef.name).spec.ref.tag;
      expect(version, `${hr.metadata.namespace}/${hr.metadata.name}`).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});

describe('cloud controller and EBS CSI', () => {
  it('cloud controller runs on control-plane nodes with host networking and the cluster name', () => {
    const v = values('production', 'infrastructure/controllers/aws-cloud-controller-manager.yaml');
    expect(v.hostNetworking).toBe(true);
    expect(v.args).toContain('--cluster-name=production');
    expect(v.tolerations).toContainEqual({ key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists', effect: 'NoSchedule' });
  });

  it('EBS CSI: gp3 WaitForFirstConsumer default class; controller on control-plane nodes, on the pod network with its own role', () => {
    const objs = objects('production', 'infrastructure/controllers/aws-ebs-csi-driver.yaml');
    const sc = find(objs, 'StorageClass') as unknown as Record<string, any>;
    expect(sc).toMatchObject({ provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', parameters: { type: 'gp3', encrypted: 'true' } });
    const hr = find(objs, 'HelmRelease');
    expect(hr.spec.values.controller).toMatchObject({ region: 'ap-northeast-2', replicaCount: 2, nodeSelector: { 'node-role.kubernetes.io/control-plane': '' } });
    expect(hr.spec.postRenderers).toBeUndefined();
    expect(hr.spec.values.controller.serviceAccount.name).toBe('ebs-csi-controller-sa');
    expect(hr.spec.dependsOn).toEqual([{ name: 'cilium', namespace: 'kube-system' }, { name: 'aws-cloud-controller-manager', namespace: 'kube-system' }]);
    expect(() => new EbsCsiDriver({ controllerReplicas: 1 }).validate(addOnContext(platform, 'production'))).toThrow('aws-ebs-csi-driver: controllerReplicas is 1; expected a whole number ≥ 2 (one per zone survives an AZ loss)');
  });

  it.each(platform.clusters.map((c) => c.name))('EBS CSI (%s): tags volumes with the cluster tag key the control-plane role conditions deletes on', (cluster) => {
    const id = values(cluster, 'infrastructure/controllers/aws-ebs-csi-driver.yaml').controller.k8sTagClusterId;
    expect(id).toBe(cluster);
    // The driver tags `kubernetes.io/cluster/<k8sTagClusterId>=owned`; aws-cluster's IAM uses names.clusterTagKey.
    expect(`${CLUSTER_TAG_PREFIX}${id}`).toBe(platform.namesOf(cluster).clusterTagKey);
  });
});

describe('monitoring scrapes and Alertmanager', () => {
  const monitoring = (cluster = 'production') => values(cluster, 'infrastructure/controllers/monitoring.yaml');

  it('scrapes etcd on the metrics port the control-plane security group opens (platform-config ETCD_METRICS_PORT), over plain HTTP', () => {
    expect(monitoring().kubeEtcd).toEqual({ service: { port: ETCD_METRICS_PORT, targetPort: ETCD_METRICS_PORT }, serviceMonitor: { scheme: 'http' } });
    expect(monitoring()['prometheus-node-exporter'].service).toEqual({ port: NODE_EXPORTER_PORT, targetPort: NODE_EXPORTER_PORT });
  });

  it('does not scrape what kubeadm binds to 127.0.0.1 (controller-manager, scheduler, kube-proxy), nor keep their always-firing rules', () => {
    // kube-proxy exists (Cilium keeps it), but its metrics listen on 127.0.0.1:10249.
    expect(ciliumValues(platform.cluster('production')).kubeProxyReplacement).toBe(false);
    const v = monitoring();
    for (const component of ['kubeControllerManager', 'kubeScheduler', 'kubeProxy']) expect(v[component], component).toEqual({ enabled: false });
    expect(v.defaultRules.rules).toEqual({ kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeProxy: false });
    expect(v.kubeEtcd.enabled).not.toBe(false);
  });

  it('labels every alert with the cluster and routes by severity, grouped by cluster and alert name', () => {
    const v = monitoring('staging');
    expect(v.prometheus.prometheusSpec.externalLabels).toEqual({ cluster: 'staging' });
    const { route, receivers, inhibit_rules } = v.alertmanager.config;
    expect(route.group_by).toEqual(['cluster', 'alertname']);
    expect(route.receiver).toBe('null');
    expect(route.routes).toEqual([
      { receiver: 'null', matchers: ['alertname =~ "Watchdog|InfoInhibitor"'] },
      { receiver: 'critical', matchers: ['severity = "critical"'], repeat_interval: '1h' },
      { receiver: 'warning', matchers: ['severity = "warning"'], repeat_interval: '4h' },
      { receiver: 'warning', matchers: ['severity = "error"'], repeat_interval: '4h' },
    ]);
    expect(receivers.map((r: { name: string }) => r.name)).toEqual(['null', 'critical', 'warning']);
    expect(inhibit_rules).toEqual([{ source_matchers: ['severity = "critical"'], target_matchers: ['severity = "warning"'], equal: ['cluster', 'alertname', 'namespace'] }]);
  });

  it('reads receiver URLs from files of the operator-made Secret (optional mount: no URL in Git, no pod stuck without it)', () => {
    const am = monitoring().alertmanager;
    expect(am.alertmanagerSpec.volumes).toEqual([{ name: 'receivers', secret: { secretName: ALERT_RECEIVER_SECRET.name, optional: true } }]);
    const [mount] = am.alertmanagerSpec.volumeMounts;
    expect(mount).toMatchObject({ name: 'receivers', readOnly: true });
    const receiver = (name: string) => am.config.receivers.find((r: { name: string }) => r.name === name);
    expect(receiver('critical').webhook_configs).toEqual([{ url_file: `${mount.mountPath}/${ALERT_RECEIVER_SECRET.keys.critical}`, send_resolved: true }]);
    expect(receiver('warning').webhook_configs).toEqual([{ url_file: `${mount.mountPath}/${ALERT_RECEIVER_SECRET.keys.warning}`, send_resolved: true }]);
    expect(JSON.stringify(am.config)).not.toMatch(/https?:\/\//);
    const slack = new AddOnRegistry([...defaultAddOns().filter((a) => a.id !== 'monitoring'), new Monitoring({ receiver: 'slack' })]).synth(addOnContext(platform, 'production'));
    const slackConfig = find(parseAllDocuments(slack['infrastructure/controllers/monitoring.yaml']!).map((d) => d.toJS() as Obj), 'HelmRelease').spec.values.alertmanager.config;
    expect(slackConfig.receivers[1].slack_configs[0]).toMatchObject({ api_url_file: `${mount.mountPath}/${ALERT_RECEIVER_SECRET.keys.critical}`, send_resolved: true });
    expect(() => new Monitoring({ receiver: 'email' as never }).validate(addOnContext(platform, 'production'))).toThrow('monitoring: receiver is "email"; expected one of webhook, slack');
  });
});

describe('CloudNativePG operator', () => {
  it('runs leader-elected replicas one per zone (required zone anti-affinity on its pod labels), evicted fast from a dead node', () => {
    const v = values('production', 'infrastructure/controllers/cloudnative-pg.yaml');
    expect(v.replicaCount).toBe(2);
    expect(v.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': 'cloudnative-pg' } } },
    ]);
    expect(v.tolerations).toEqual(fastEvictionTolerations(FAST_EVICTION_SECONDS));
  });

  it('rejects replicas that leave no zone free (rolling updates and the pod of a lost zone need one)', () => {
    expect(() => new CloudNativePgOperator({ replicas: 3 }).validate(addOnContext(platform, 'production'))).toThrow(
      'cloudnative-pg: replicas is 3; expected 1 to 2 (one per zone, leaving a zone free for a rolling update and for the pod of a lost zone)',
    );
  });
});

describe('monitoring: operator, kube-state-metrics, Grafana, node-exporter textfile', () => {
  const v = () => values('production', 'infrastructure/controllers/monitoring.yaml');

  it('the operator and kube-state-metrics leave a dead node after FAST_EVICTION_SECONDS; Grafana stays at one replica', () => {
    expect(v().prometheusOperator.tolerations).toEqual(fastEvictionTolerations(FAST_EVICTION_SECONDS));
    expect(v()['kube-state-metrics'].tolerations).toEqual(fastEvictionTolerations(FAST_EVICTION_SECONDS));
    expect(v().grafana).toEqual({ replicas: 1, tolerations: fastEvictionTolerations(FAST_EVICTION_SECONDS) });
  });

  it('node-exporter reads the host textfile directory etcd-snapshot.sh writes (read-only), keeping the chart filesystem filters', () => {
    const exporter = v()['prometheus-node-exporter'];
    const [mount] = exporter.extraHostVolumeMounts;
    expect(mount).toEqual({ name: 'textfile', hostPath: NODE_EXPORTER_TEXTFILE_DIR, type: 'DirectoryOrCreate', mountPath: mount.mountPath, readOnly: true });
    expect(exporter.extraArgs).toEqual([...NODE_EXPORTER_ARGS]);
    expect(exporter.extraArgs).toContain(`--collector.textfile.directory=${mount.mountPath}`);
    expect(exporter.extraArgs.filter((a: string) => a.startsWith('--collector.filesystem.'))).toHaveLength(2);
    expect(ETCD_SNAPSHOT_METRIC.file.startsWith(`${NODE_EXPORTER_TEXTFILE_DIR}/`)).toBe(true);
  });
});

describe('metrics-server, CoreDNS, monitoring', () => {
  it('metrics-server: 2 replicas, PDB, zone spread', () => {
    const v = values('staging', 'infrastructure/controllers/metrics-server.yaml');
    expect(v.replicas).toBe(2);
    expect(v.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(() => new MetricsServer({ replicas: 1 }).validate(addOnContext(platform, 'staging'))).toThrow('metrics-server: replicas is 1; expected a whole number ≥ 2');
  });

  it('CoreDNS: kubeadm’s Deployment (same selector) spread over zones, with a PDB', () => {
    const objs = objects('production', 'infrastructure/controllers/coredns.yaml');
    const deployment = find(objs, 'Deployment', 'coredns');
    expect(deployment.metadata.namespace).toBe('kube-system');
    expect(deployment.spec.selector).toEqual({ matchLabels: { 'k8s-app': 'kube-dns' } });
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1 });
    expect(deployment.spec.template.spec.containers[0].image).toBe(`registry.k8s.io/coredns/coredns:${VERSIONS_BY_KUBERNETES_MINOR['1.34']!.coredns}`);
    expect(find(objs, 'PodDisruptionBudget', 'coredns').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'k8s-app': 'kube-dns' } } });
    expect(() => new CoreDns({ replicas: 2 }).validate(addOnContext(platform, 'production'))).toThrow('coredns: replicas is 2; expected a whole number ≥ 3 (at least one per Availability Zone)');
    expect(() => new CoreDns({ tolerationSeconds: 0 }).validate(addOnContext(platform, 'production'))).toThrow('coredns: tolerationSeconds is 0; expected 1 to 300 seconds');
  });

  it('alerts cover etcd quorum and snapshot freshness, nodes not ready per zone, unschedulable pods and zone imbalance', () => {
    const rule = find(objects('production', 'infrastructure/configs/monitoring-alerts.yaml'), 'PrometheusRule');
    const alerts = rule.spec.groups[0].rules.map((r: { alert: string }) => r.alert);
    expect(alerts).toEqual(['EtcdNoLeader', 'EtcdQuorumAtRisk', 'NodesNotReadyInZone', 'PodsUnschedulable', 'ZoneImbalance', 'EtcdSnapshotStale']);
    expect(availabilityAlerts({ for: '5m', zoneImbalanceNodes: 2 }, { etcdSnapshotIntervalMinutes: 15 }).find((a) => a.alert === 'NodesNotReadyInZone')!.expr).toContain('by (label_topology_kubernetes_io_zone)');
    const v = values('production', 'infrastructure/controllers/monitoring.yaml');
    expect(v.prometheus.prometheusSpec.replicas).toBe(2);
    expect(v.alertmanager.alertmanagerSpec.replicas).toBe(3);
  });

  it.each(['prometheus', 'alertmanager'])('monitoring: the %s PDB renders only maxUnavailable (the chart defaults minAvailable: 1, and both bounds are invalid)', (component) => {
    // kube-prometheus-stack's PDB templates emit each bound when truthy; its values default minAvailable to 1.
    const pdb = values('production', 'infrastructure/controllers/monitoring.yaml')[component].podDisruptionBudget;
    expect(pdb.enabled).toBe(true);
    expect(pdb.maxUnavailable).toBe(1);
    expect(pdb).toHaveProperty('minAvailable');
    expect(Boolean(pdb.minAvailable), 'minAvailable must be present and falsy so it overrides the chart default').toBe(false);
  });
});

describe('apps', () => {
  it('PostgreSQL: 3 instances in different zones, synchronous standby, backups to its archive (production: its bucket in the standby region)', () => {
    const objs = objects('production', 'apps/postgres.yaml');
    const cluster = find(objs, 'Cluster');
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.affinity).toEqual({ enablePodAntiAffinity: true, topologyKey: 'topology.kubernetes.io/zone', podAntiAffinityType: 'required' });
    expect(cluster.spec.postgresql.synchronous).toEqual({ method: 'any', number: 1 });
    expect(cluster.spec.backup.barmanObjectStore.destinationPath).toBe(`s3://${platform.namesOf('production').appWalArchive.bucket}/postgres/orders`);
    // No keys: barman-cloud takes the instances' web identity (the postgres-backups workload role).
    const archive = platform.namesOf('production').appBackupArchive;
    expect(cluster.metadata.namespace).toBe(archive.namespace);
    expect(cluster.spec.backup.barmanObjectStore.s3Credentials).toEqual({ inheritFromIAMRole: true });
    expect(cluster.spec.backup.barmanObjectStore.destinationPath.startsWith(`s3://${platform.namesOf('production').appWalArchive.bucket}/${archive.bucketPrefix}`)).toBe(true);
    expect(() => new PostgresCluster({ namespace: 'db' }).validate(addOnContext(platform, 'production'))).toThrow(
      'postgres: namespace is "db"; expected "data", the namespace of the postgres-backups identity (its role trusts only that service account)',
    );
    expect(() => new PostgresCluster({ name: 'billing' }).validate(addOnContext(platform, 'production'))).toThrow(
      'postgres: name is "billing"; expected "orders", the service account of the postgres-backups identity (CloudNativePG names it after the Cluster)',
    );
    expect(find(objs, 'ScheduledBackup').spec).toMatchObject({ cluster: { name: 'orders' }, method: 'barmanObjectStore' });
    expect(() => new PostgresCluster({ instances: 2 }).validate(addOnContext(platform, 'production'))).toThrow('postgres: instances is 2; expected 3 to 3 (one per Availability Zone, required anti-affinity)');
    expect(() => new PostgresCluster({ backupSchedule: '0 3 * * *' }).validate(addOnContext(platform, 'production'))).toThrow('postgres: backupSchedule is "0 3 * * *"; expected a six-field cron expression (seconds first)');
  });

  it('sample web: HA pattern, and a suspended load generator', () => {
    const objs = objects('dr', 'apps/sample-web.yaml');
    const d = find(objs, 'Deployment', 'web');
    expect(d.spec.replicas).toBeUndefined();
    expect(find(objs, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    const load = find(objs, 'Job', 'web-load') as Obj & { metadata: { annotations?: Record<string, string> } };
    expect(load.spec.suspend).toBe(true);
    // Create-only for Flux: un-suspending it for the game day is not undone by the next reconcile (every 5 min).
    expect(load.metadata.annotations).toEqual({ 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' });
    expect(load.spec.ttlSecondsAfterFinished).toBe(3600);
    expect(load.spec.template.spec.containers[0].args).toEqual(['load', '-qps', '0', '-c', '64', '-t', '15m', 'http://web.web.svc.cluster.local/']);
    // Hardened like the app (checkov CKV_K8S_13/28/31/37): runtime seccomp filter, no capability, a memory limit.
    expect(load.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(load.spec.template.spec.containers[0].securityContext).toMatchObject({ capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(load.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    expect(find(objs, 'Service', 'web').spec.selector).toEqual({ 'app.kubernetes.io/name': 'web' });
  });

  it('catalogued apps: image by digest, HPA bounds and resources from the application catalog; a cluster that does not run one renders none', () => {
    const web = platform.appOf('dr', 'web')!;
    const d = find(objects('dr', 'apps/sample-web.yaml'), 'Deployment', 'web');
    expect(d.spec.template.spec.containers[0].image).toBe(web.image);
    expect(web.image).toMatch(/^registry\.k8s\.io\/e2e-test-images\/agnhost@sha256:[0-9a-f]{64}$/);
    expect(d.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    // Immutable by digest: a scale-out or an AZ-loss reschedule pulls only onto a node that lacks it.
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    const api = find(objects('production', 'apps/postgres.yaml'), 'Deployment', 'orders-api');
    expect(api.spec.template.spec.containers[0].image).toBe(platform.appOf('production', 'orders-api')!.image);
    const catalog = structuredClone(APP_CATALOG) as { apps: Record<string, { clusters: string[]; digests: Record<string, string>; scaling: { maxReplicas: number } }> };
    catalog.apps.web!.clusters = ['production', 'dr'];
    delete catalog.apps.web!.digests.staging;
    catalog.apps.web!.scaling.maxReplicas = 20;
    const changed = loadPlatform({ ...platformInput, appCatalog: catalog });
    const render = (cluster: string) => synthClusterTree(changed, cluster)['apps/sample-web.yaml'] ?? '';
    expect(render('staging')).not.toContain('kind: Deployment');
    expect(render('production')).toContain('maxReplicas: 20');
  });
});

describe('HaWorkload', () => {
  const zones = ['a', 'b', 'c'];
  const make = (extra: object = {}) => new HaWorkload(new Chart(Testing.app(), 'c'), 'svc', { namespace: 'ns', image: 'img', port: 8080, availabilityZones: zones, ...extra });

  it('pulls a tag every time (it may move) and a digest only when the node lacks it', () => {
    const policy = (image: string) => {
      const chart = new Chart(Testing.app(), 'c');
      new HaWorkload(chart, 'svc', { namespace: 'ns', image, port: 8080, availabilityZones: zones });
      return (Testing.synth(chart).find((o) => o.kind === 'Deployment') as { spec: { template: { spec: { containers: { imagePullPolicy: string }[] } } } }).spec.template.spec.containers[0]!.imagePullPolicy;
    };
    expect(policy('example.org/app:1.2')).toBe('Always');
    expect(policy(`example.org/app@sha256:${'a'.repeat(64)}`)).toBe('IfNotPresent');
  });

  it('spreads by zone (not one-per-zone), tolerates dead nodes briefly, has PDB, HPA and requests', () => {
    const w = make({ minReplicas: 6 });
    const out = Chart.of(w).toJson() as Obj[];
    const pod = find(out, 'Deployment').spec.template.spec;
    expect(pod.topologySpreadConstraints[0]).toEqual({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'svc' } } });
    expect(pod.affinity).toBeUndefined();
    expect(pod.tolerations.map((t: { key: string; tolerationSeconds: number }) => [t.key, t.tolerationSeconds])).toEqual([['node.kubernetes.io/not-ready', 30], ['node.kubernetes.io/unreachable', 30]]);
    expect(pod.containers[0].resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(pod.containers[0].readinessProbe.httpGet.port).toBe(8080);
    expect(find(out, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 6, maxReplicas: 18 });
    expect(find(out, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it.each([
    [{ minReplicas: 2 }, 'svc: minReplicas is 2; expected a whole number ≥ 3 (one per Availability Zone)'],
    [{ maxReplicas: 2 }, 'svc: maxReplicas is 2; expected a whole number ≥ minReplicas (3)'],
    [{ tolerationSeconds: 0 }, 'svc: tolerationSeconds is 0; expected 1 to 300 seconds'],
    [{ targetCpuPercent: 99 }, 'svc: targetCpuPercent is 99; expected 10 to 95'],
    [{ availabilityZones: [] }, 'svc: availabilityZones is []; expected at least one zone'],
  ])('rejects %j', (extra, message) => {
    expect(() => make(extra)).toThrow(message);
  });
});

describe('AddOnRegistry', () => {
  const ctx = addOnContext(platform, 'staging');

  it('orders by layer and dependencies and throws on a missing dependency', () => {
    const ids = new AddOnRegistry(defaultAddOns().reverse()).ordered().map((a) => a.id);
    expect(ids.slice(0, 2).sort()).toEqual(['flux', 'region-failover-access']);
    expect(ids.indexOf('cilium')).toBeLessThan(ids.indexOf('aws-cloud-controller-manager'));
    expect(ids.indexOf('aws-cloud-controller-manager')).toBeLessThan(ids.indexOf('aws-ebs-csi-driver'));
    expect(ids.slice(-2).sort()).toEqual(['postgres', 'sample-web']);
    expect(() => new AddOnRegistry([new EbsCsiDriver()]).synth(ctx)).toThrow('aws-ebs-csi-driver depends on Cilium, which is not registered; expected it in the registry');
  });

  it('rejects duplicate ids and validates every add-on before deploying any', () => {
    expect(() => new AddOnRegistry([new Cilium(), new Cilium()])).toThrow('add-on id "cilium" is registered twice; expected unique ids');
    const addOns = [...defaultAddOns().filter((a) => a.id !== 'metrics-server'), new MetricsServer({ replicas: 0 })];
    expect(() => new AddOnRegistry(addOns).synth(ctx)).toThrow('metrics-server: replicas is 0; expected a whole number ≥ 2');
  });

  // Minimal add-ons for graph errors; dependencies are read when the registry orders them.
  abstract class Probe extends AddOnBase<object> {
    protected defaults() {
      return {};
    }
    protected render() {}
  }
  class First extends Probe {
    readonly id = 'first';
    readonly layer = 'infra-controllers' as const;
    override readonly dependencies = [Second];
  }
  class Second extends Probe {
    readonly id = 'second';
    readonly layer = 'infra-controllers' as const;
    override readonly dependencies = [Third];
  }
  class Third extends Probe {
    readonly id = 'third';
    readonly layer = 'infra-controllers' as const;
    override readonly dependencies = [First];
  }
  class EarlyConsumer extends Probe {
    readonly id = 'early-consumer';
    readonly layer = 'infra-controllers' as const;
    override readonly dependencies = [LateProvider];
  }
  class LateProvider extends Probe {
    readonly id = 'late-provider';
    readonly layer = 'apps' as const;
  }

  it('rejects a dependency cycle, naming its path', () => {
    expect(() => new AddOnRegistry([new First(), new Second(), new Third()]).ordered()).toThrow('add-on dependency cycle: first -> second -> third -> first');
    expect(() => new AddOnRegistry([new Third(), new First(), new Second()]).synth(ctx)).toThrow('add-on dependency cycle: third -> first -> second -> third');
  });

  it('rejects a dependency in a later layer (Flux would apply the dependent first)', () => {
    expect(() => new AddOnRegistry([new EarlyConsumer(), new LateProvider()]).synth(ctx)).toThrow(
      'early-consumer (layer infra-controllers) depends on late-provider (layer apps); expected a dependency in the same or an earlier layer',
    );
  });

  it('merges overrides deeply over defaults, arrays replaced', () => {
    const ca = new ClusterAutoscaler({ values: { extraArgs: { 'scan-interval': '10s' } } });
    const v = ca.props(ctx);
    expect(v.replicas).toBe(2);
    expect(v.values).toEqual({ extraArgs: { 'scan-interval': '10s' } });
    const tree = new AddOnRegistry([...defaultAddOns().filter((a) => a.id !== 'cluster-autoscaler'), ca]).synth(ctx);
    const args = find(parseAllDocuments(tree['infrastructure/controllers/cluster-autoscaler.yaml']!).map((d) => d.toJS() as Obj), 'HelmRelease').spec.values.extraArgs;
    expect(args).toMatchObject({ 'scan-interval': '10s', expander: 'least-waste' });
  });
});
