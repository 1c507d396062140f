import type { ClusterDefinitionInput } from '../cluster-definition';
import { ServiceAccountIdentity } from '../service-account-identity';

/** Pilot light in Tokyo: control plane up, workers at their minimum, same manifests. */
export const dr: ClusterDefinitionInput = {
  name: 'dr',
  environment: 'disaster-recovery',
  region: 'ap-northeast-1',
  availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
  vpcCidr: '10.30.0.0/16',
  kubernetesVersion: '1.34.1',
  controlPlane: { count: 3, instanceType: 'm7i.large', rootVolumeGiB: 80 },
  workerPools: [{ name: 'general', instanceTypes: ['m7i.xlarge', 'm6i.xlarge'], minPerAz: 1, maxPerAz: 10, spotPercentage: 0, labels: { 'node.platform.io/pool': 'general' } }],
  apiEndpoint: { exposure: 'internet-facing', allowedCidrs: ['203.0.113.0/24', '198.51.100.0/24'], dnsRecord: true },
  nat: 'per-az',
  // Replicas outside the primary's region: dr's stack (its replica provider) must plan while Seoul is down.
  backups: { etcdSnapshotIntervalMinutes: 15, retentionDays: 30, replicaRegion: 'ap-southeast-1' },
  gitops: { branch: 'main', intervalMinutes: 5 },
  // Built with IRSA from the start (a cluster that ran before moves stage by stage: docs/runbooks/service-account-issuer.md).
  serviceAccountIdentity: ServiceAccountIdentity.complete(),
  // regionRpoSeconds: what losing ap-northeast-1 too would cost while dr serves after a promotion
  // (nothing standing by for it: tolerateRegionLoss false). Its etcd restores elsewhere from 15 min
  // snapshots + S3 replication's typical 15 min: 30 min, declared so ha-check holds it to that.
  objectives: { tolerateAzLoss: true, tolerateRegionLoss: false, apiRtoSeconds: 60, appRtoSeconds: 300, rpoMinutes: 15, regionRpoSeconds: 1800, scaleOutSeconds: 180 },
};
