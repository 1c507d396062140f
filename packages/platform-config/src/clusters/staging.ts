import type { ClusterDefinitionInput } from '../cluster-definition';
import { NodeImage } from '../node-image';
import { ServiceAccountIdentity } from '../service-account-identity';

/** Cheaper: one NAT gateway and small nodes; still three control-plane nodes to rehearse HA. */
export const staging: ClusterDefinitionInput = {
  name: 'staging',
  environment: 'staging',
  region: 'ap-northeast-2',
  availabilityZones: ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'],
  vpcCidr: '10.10.0.0/16',
  kubernetesVersion: '1.34.1',
  controlPlane: { count: 3, instanceType: 't3.medium', rootVolumeGiB: 40 },
  workerPools: [{ name: 'general', instanceTypes: ['t3.large', 'm6i.large'], minPerAz: 1, maxPerAz: 3, spotPercentage: 100, labels: { 'node.platform.io/pool': 'general' } }],
  apiEndpoint: { exposure: 'internet-facing', allowedCidrs: ['203.0.113.0/24'], dnsRecord: true },
  nat: 'single',
  // Rehearses the baked image first (node-image-ap-northeast-2); boots the locked Ubuntu image until the lock records a build.
  nodeImage: NodeImage.baked(),
  backups: { etcdSnapshotIntervalMinutes: 30, retentionDays: 7 },
  gitops: { branch: 'main', intervalMinutes: 5 },
  // Built with IRSA from the start (a cluster that ran before moves stage by stage: docs/runbooks/service-account-issuer.md).
  serviceAccountIdentity: ServiceAccountIdentity.complete(),
  objectives: { tolerateAzLoss: false, tolerateRegionLoss: false, apiRtoSeconds: 300, appRtoSeconds: 900, rpoMinutes: 60, scaleOutSeconds: 300 },
};
