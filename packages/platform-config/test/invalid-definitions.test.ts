import { describe, expect, it } from 'vitest';
import { DatabaseStore, loadPlatform, platformInput } from '../src';
import { problems, withChange, type Raw, type RawInput } from './support';

const AZ_NOTE = 'when objectives.tolerateAzLoss is true';
const REAL = 'while settings.example is false (a platform that is applied)';
const WEB = 'sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85';
const HEX = 'sha256: and 64 lowercase hexadecimal digits';

// Each case: one wrong definition and the exact message it must produce.
const corpus: [string, (input: RawInput) => void, string][] = [
  ['name with upper case', (i) => (i.clusters[1].name = 'Prod'), 'clusters[1].name: got "Prod"; expected a DNS label: lowercase letters, digits and "-", starting with a letter'],
  ['name too long for AWS names', (i) => (i.clusters[1].name = 'production-eu-west-primary'), 'clusters[1].name: got "production-eu-west-primary"; expected at most 20 characters (AWS resource name limits)'],
  ['unknown field (typo)', (i) => (i.clusters[1].controlplane = {}), 'clusters[1].controlplane: got {}; expected no such field (check its spelling against the ClusterDefinition type)'],
  ['missing required field', (i) => delete i.clusters[1].region, 'clusters[1].region: got nothing; expected an AWS region name'],
  ['wrong type', (i) => (i.clusters[2].workerPools[0].minPerAz = '1'), 'clusters[2].workerPools[0].minPerAz: got "1"; expected a value of type number'],
  ['unknown environment', (i) => (i.clusters[0].environment = 'dev'), 'clusters[0].environment: got "dev"; expected one of staging, production, disaster-recovery'],
  ['unknown region', (i) => (i.clusters[1].region = 'ap-northeast-9'), 'clusters[1].region: got "ap-northeast-9"; expected one of ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-southeast-1, eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-2'],
  ['AZ of another region', (i) => (i.clusters[1].availabilityZones[2] = 'ap-northeast-1a'), 'clusters[1].availabilityZones[2]: got "ap-northeast-1a"; expected an AZ of ap-northeast-2: ap-northeast-2a, ap-northeast-2b, ap-northeast-2c, ap-northeast-2d'],
  ['AZ listed twice', (i) => (i.clusters[1].availabilityZones[2] = 'ap-northeast-2a'), 'clusters[1].availabilityZones[2]: got "ap-northeast-2a"; expected each AZ once'],
  ['too few AZs to survive losing one', (i) => (i.clusters[1].availabilityZones = ['ap-northeast-2a', 'ap-northeast-2b']), `clusters[1].availabilityZones: got ["ap-northeast-2a","ap-northeast-2b"]; expected at least 3 AZs ${AZ_NOTE} (etcd keeps quorum only with a majority outside the lost AZ)`],
  ['no AZ at all', (i) => (i.clusters[0].availabilityZones = []), 'clusters[0].availabilityZones: got []; expected at least one Availability Zone'],
  ['malformed VPC CIDR', (i) => (i.clusters[1].vpcCidr = '10.20.0.0/33'), 'clusters[1].vpcCidr: got "10.20.0.0/33"; expected an IPv4 CIDR block such as 10.20.0.0/16 with no host bits set'],
  ['VPC CIDR with host bits', (i) => (i.clusters[1].vpcCidr = '10.20.1.0/16'), 'clusters[1].vpcCidr: got "10.20.1.0/16"; expected an IPv4 CIDR block such as 10.20.0.0/16 with no host bits set'],
  ['public VPC CIDR', (i) => (i.clusters[1].vpcCidr = '52.20.0.0/16'), 'clusters[1].vpcCidr: got "52.20.0.0/16"; expected a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16'],
  ['VPC too small', (i) => (i.clusters[1].vpcCidr = '10.20.0.0/24'), 'clusters[1].vpcCidr: got "10.20.0.0/24"; expected a prefix from /16 to /20 (AWS allows /16 at most; each AZ needs two /24 subnets or larger)'],
  ['VPCs of two clusters overlap', (i) => (i.clusters[2].vpcCidr = '10.20.0.0/16'), 'clusters[2].vpcCidr: got "10.20.0.0/16"; expected no overlap with clusters[1].vpcCidr (10.20.0.0/16, production) so the VPCs can be peered'],
  ['pod CIDR overlaps the VPC', (i) => (i.clusters[1].clusterNetwork = { podCidr: '10.20.128.0/17' }), 'clusters[1].clusterNetwork.podCidr: got "10.20.128.0/17"; expected no overlap with vpcCidr (10.20.0.0/16)'],
  ['service CIDR overlaps pods', (i) => (i.clusters[1].clusterNetwork = { podCidr: '100.64.0.0/16', serviceCidr: '100.64.0.0/20' }), 'clusters[1].clusterNetwork.serviceCidr: got "100.64.0.0/20"; expected no overlap with clusterNetwork.podCidr (100.64.0.0/16)'],
  ['Kubernetes version not a full version', (i) => (i.clusters[1].kubernetesVersion = '1.34'), 'clusters[1].kubernetesVersion: got "1.34"; expected a full version such as 1.34.1'],
  ['Kubernetes version outside the window', (i) => (i.clusters[1].kubernetesVersion = '1.29.4'), 'clusters[1].kubernetesVersion: got "1.29.4"; expected a supported minor version: 1.32, 1.33, 1.34'],
  ['even control plane', (i) => (i.clusters[1].controlPlane.count = 4), 'clusters[1].controlPlane.count: got 4; expected an odd number (an even etcd membership tolerates no more failures than one less)'],
  ['single control plane must survive an AZ', (i) => (i.clusters[1].controlPlane.count = 1), `clusters[1].controlPlane.count: got 1; expected 3, 5 or 7 ${AZ_NOTE}`],
  ['control plane above the etcd limit', (i) => (i.clusters[1].controlPlane.count = 9), 'clusters[1].controlPlane.count: got 9; expected at most 7 control-plane nodes (etcd write latency)'],
  ['unknown control-plane instance type', (i) => (i.clusters[1].controlPlane.instanceType = 'm99.large'), 'clusters[1].controlPlane.instanceType: got "m99.large"; expected a known instance type: c6i.large, c6i.xlarge, c7g.large, c7i.large, c7i.xlarge, m5.large, m5.xlarge, m6i.2xlarge, m6i.large, m6i.xlarge, m7g.large, m7g.xlarge, m7i.2xlarge, m7i.large, m7i.xlarge, r6i.large, r7i.large, t3.large, t3.medium, t3.xlarge'],
  ['control-plane root volume too small', (i) => (i.clusters[1].controlPlane.rootVolumeGiB = 8), 'clusters[1].controlPlane.rootVolumeGiB: got 8; expected at least 20 GiB (etcd, images)'],
  ['database store as a flag', (i) => (i.clusters[1].backups.databaseStore = 'own-region'), 'clusters[1].backups.databaseStore: got "own-region"; expected DatabaseStore.standbyRegion() or DatabaseStore.ownRegion()'],
  ['database store in a standby region it does not have', (i) => (i.clusters[0].backups.databaseStore = DatabaseStore.standbyRegion()), 'clusters[0].backups.databaseStore: got {"kind":"standby-region"}; expected DatabaseStore.ownRegion() or nothing: DatabaseStore.standbyRegion() needs failover.standbyCluster and backups.replicaRegion (the bucket in the standby\'s region)'],
  ['WAL rate not positive', (i) => (i.clusters[1].backups.databaseWalMiBPerMinute = 0), 'clusters[1].backups.databaseWalMiBPerMinute: got 0; expected more than 0 MiB per minute'],
  ['node image as a flag', (i) => (i.clusters[1].nodeImage = 'baked'), 'clusters[1].nodeImage: got "baked"; expected NodeImage.ubuntu() or NodeImage.baked()'],
  ['identity stage as a string flag', (i) => (i.clusters[1].serviceAccountIdentity = 'complete'), 'clusters[1].serviceAccountIdentity: got "complete"; expected ServiceAccountIdentity.acceptIssuer(), .signWithIssuer(), .webIdentity() or .complete()'],
  [
    'identity stage with a hand-made mix of aspects',
    (i) => (i.clusters[1].serviceAccountIdentity = { stage: 'complete', apiServer: { signs: 'legacy' }, podCredentials: 'web-identity', nodeRolesKeepAddOnRights: false, legacyBackupUser: false }),
    'clusters[1].serviceAccountIdentity: got {"stage":"complete","apiServer":{"signs":"legacy"},"podCredentials":"web-iden...; expected ServiceAccountIdentity.acceptIssuer(), .signWithIssuer(), .webIdentity() or .complete()',
  ],
  ['no worker pool', (i) => (i.clusters[1].workerPools = []), 'clusters[1].workerPools: got []; expected at least one worker pool'],
  ['duplicate pool name', (i) => (i.clusters[1].workerPools[1].name = 'general'), 'clusters[1].workerPools[1].name: got "general"; expected a pool name used once per cluster'],
  ['pool name too long', (i) => (i.clusters[1].workerPools[0].name = 'general-purpose-pool'), 'clusters[1].workerPools[0].name: got "general-purpose-pool"; expected at most 16 characters (AWS resource name limits)'],
  ['min above max', (i) => (i.clusters[1].workerPools[0].minPerAz = 11), 'clusters[1].workerPools[0].minPerAz: got 11; expected at most maxPerAz (10)'],
  ['negative min', (i) => (i.clusters[1].workerPools[0].minPerAz = -1), 'clusters[1].workerPools[0].minPerAz: got -1; expected 0 or more nodes per AZ'],
  ['spot share above 100', (i) => (i.clusters[1].workerPools[1].spotPercentage = 120), 'clusters[1].workerPools[1].spotPercentage: got 120; expected a percentage from 0 to 100'],
  ['unknown worker instance type', (i) => (i.clusters[1].workerPools[0].instanceTypes[1] = 'x1.huge'), 'clusters[1].workerPools[0].instanceTypes[1]: got "x1.huge"; expected a known instance type: c6i.large, c6i.xlarge, c7g.large, c7i.large, c7i.xlarge, m5.large, m5.xlarge, m6i.2xlarge, m6i.large, m6i.xlarge, m7g.large, m7g.xlarge, m7i.2xlarge, m7i.large, m7i.xlarge, r6i.large, r7i.large, t3.large, t3.medium, t3.xlarge'],
  ['instance types of two sizes in a pool', (i) => (i.clusters[1].workerPools[0].instanceTypes = ['m7i.xlarge', 'm7i.2xlarge']), 'clusters[1].workerPools[0].instanceTypes: got ["m7i.xlarge","m7i.2xlarge"]; expected instance types of one size per pool, not 4 vCPU / 16384 MiB and 8 vCPU / 32768 MiB: the kubelet reserves are rendered per pool (node-allocatable.ts) and cluster-autoscaler sizes a mixed-instances group by one of its types'],
  ['mixed CPU architectures in a pool', (i) => (i.clusters[1].workerPools[0].instanceTypes = ['m7i.xlarge', 'm7g.xlarge']), 'clusters[1].workerPools[0].instanceTypes: got ["m7i.xlarge","m7g.xlarge"]; expected one CPU architecture per pool (one launch template image)'],
  ['bad taint effect', (i) => (i.clusters[1].workerPools[1].taints[0].effect = 'NoRun'), 'clusters[1].workerPools[1].taints[0].effect: got "NoRun"; expected one of NoSchedule, PreferNoSchedule, NoExecute'],
  ['bad label value', (i) => (i.clusters[1].workerPools[0].labels = { team: 'a b' }), 'clusters[1].workerPools[0].labels.team: got "a b"; expected a Kubernetes label value (≤ 63 chars)'],
  ['malformed allowed CIDR', (i) => (i.clusters[1].apiEndpoint.allowedCidrs[0] = 'office'), 'clusters[1].apiEndpoint.allowedCidrs[0]: got "office"; expected an IPv4 CIDR block with no host bits set'],
  ['API open to the whole internet', (i) => (i.clusters[1].apiEndpoint.allowedCidrs[0] = '0.0.0.0/0'), 'clusters[1].apiEndpoint.allowedCidrs[0]: got "0.0.0.0/0"; expected a range of /8 or narrower (never the whole internet on the API)'],
  ['unknown exposure', (i) => (i.clusters[1].apiEndpoint.exposure = 'public'), 'clusters[1].apiEndpoint.exposure: got "public"; expected internal or internet-facing'],
  ['public API admitting nobody', (i) => (i.clusters[0].apiEndpoint.allowedCidrs = []), 'clusters[0].apiEndpoint.allowedCidrs: got []; expected at least one CIDR when exposure is internet-facing (the public endpoint admits only these networks; in-cluster clients use the internal one)'],
  ['public API record on an internal-only API', (i) => (i.clusters[0].apiEndpoint.exposure = 'internal'), 'clusters[0].apiEndpoint.dnsRecord: got true; expected false when apiEndpoint.exposure is internal (the public record names the internet-facing load balancer; in-cluster clients use the private zone)'],
  ['API record switch not a boolean', (i) => (i.clusters[0].apiEndpoint.dnsRecord = 'yes'), 'clusters[0].apiEndpoint.dnsRecord: got "yes"; expected true or false'],
  ['API record without a hosted zone', (i) => {
    i.clusters[0].apiEndpoint.dnsRecord = true;
    delete i.settings.dns;
  }, 'clusters[0].apiEndpoint.dnsRecord: got true; expected false while settings.dns is not set (the API alias record lives in its hosted zone)'],
  ['API record name longer than DNS allows', (i) => {
    i.clusters[0].apiEndpoint.dnsRecord = true;
    i.settings.dns.hostedZoneName = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}.com`;
  }, 'clusters[0].apiEndpoint.dnsRecord: got true; expected false or a shorter settings.dns.hostedZoneName: derived API record api.staging.<settings.dns.hostedZoneName> has 258 characters (DNS allows 253)'],
  ['API record name with a label longer than DNS allows', (i) => {
    i.clusters[0].apiEndpoint.dnsRecord = true;
    i.settings.dns.hostedZoneName = `${'x'.repeat(64)}.example.com`;
  }, 'clusters[0].apiEndpoint.dnsRecord: got true; expected false or a shorter settings.dns.hostedZoneName: derived API record api.staging.<settings.dns.hostedZoneName> has a label of 64 characters (DNS allows 63 per label)'],
  ['hosted zone label longer than DNS allows', (i) => (i.settings.dns.hostedZoneName = `${'z'.repeat(64)}.example.com`), `settings.dns.hostedZoneName: got "${'z'.repeat(64)}.example.com"; expected a name whose app record app.<hostedZoneName> fits DNS: it has a label of 64 characters (DNS allows 63 per label)`],
  ['single NAT while surviving an AZ', (i) => (i.clusters[1].nat = 'single'), `clusters[1].nat: got "single"; expected per-az ${AZ_NOTE} (one NAT gateway takes every private subnet's egress down with its AZ)`],
  ['unknown NAT strategy', (i) => (i.clusters[0].nat = 'none'), 'clusters[0].nat: got "none"; expected per-az or single'],
  ['snapshot interval too long', (i) => (i.clusters[1].backups.etcdSnapshotIntervalMinutes = 120), 'clusters[1].backups.etcdSnapshotIntervalMinutes: got 120; expected 1 to 60 minutes'],
  ['replica in the same region', (i) => (i.clusters[1].backups.replicaRegion = 'ap-northeast-2'), "clusters[1].backups.replicaRegion: got \"ap-northeast-2\"; expected a region other than the cluster's own (ap-northeast-2)"],
  ['replica region unknown', (i) => (i.clusters[0].backups.replicaRegion = 'mars-1'), 'clusters[0].backups.replicaRegion: got "mars-1"; expected one of ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-southeast-1, eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-2'],
  ['RPO tighter than snapshots', (i) => (i.clusters[1].objectives.rpoMinutes = 5), 'clusters[1].objectives.rpoMinutes: got 5; expected at least backups.etcdSnapshotIntervalMinutes (15): snapshots are the recovery point'],
  ['regional RTO without a standby', (i) => (i.clusters[0].objectives.regionRtoSeconds = 1800), 'clusters[0].objectives.regionRtoSeconds: got 1800; expected failover.standbyCluster with a regional RTO (only a standby in another region recovers from losing this one)'],
  ['regional RTO within the DNS TTL', (i) => (i.clusters[1].objectives.regionRtoSeconds = 60), "clusters[1].objectives.regionRtoSeconds: got 60; expected more than 60 s: resolvers keep the lost region's answer for the DNS TTL alone, before detection and promotion"],
  ['scale-out objective above an hour', (i) => (i.clusters[1].objectives.scaleOutSeconds = 7200), 'clusters[1].objectives.scaleOutSeconds: got 7200; expected at most 3600 (seconds)'],
  ['scale-out objective below metrics and HPA sync', (i) => (i.clusters[1].objectives.scaleOutSeconds = 20), "clusters[1].objectives.scaleOutSeconds: got 20; expected at least 30 s: metrics-server's 15 s resolution and the HPA controller's 15 s sync come before the first new pod"],
  ['regional RTO in fractions of a second', (i) => (i.clusters[1].objectives.regionRtoSeconds = 1800.5), 'clusters[1].objectives.regionRtoSeconds: got 1800.5; expected a whole number of seconds'],
  ['regional RTO above a day', (i) => (i.clusters[1].objectives.regionRtoSeconds = 90000), 'clusters[1].objectives.regionRtoSeconds: got 90000; expected at most 86400 (seconds)'],
  ['region loss without standby', (i) => delete i.clusters[1].failover, 'clusters[1].failover: got nothing; expected failover.standbyCluster when objectives.tolerateRegionLoss is true'],
  ['standby cluster unknown', (i) => (i.clusters[1].failover.standbyCluster = 'tokyo'), 'clusters[1].failover.standbyCluster: got "tokyo"; expected the name of another cluster: staging, dr'],
  ['standby in the same region', (i) => (i.clusters[1].failover.standbyCluster = 'staging'), 'clusters[1].failover.standbyCluster: got "staging"; expected a cluster in another region than ap-northeast-2'],
  ['replica not in the standby region', (i) => (i.clusters[1].backups.replicaRegion = 'ap-northeast-3'), "clusters[1].backups.replicaRegion: got \"ap-northeast-3\"; expected the standby cluster's region (ap-northeast-1) so it can restore from the replica"],
  ['failover without a hosted zone', (i) => delete i.settings.dns, 'settings.dns: got nothing; expected a hosted zone when clusters[1].failover.standbyCluster is set (the Route 53 failover records live in it)'],
  ['a second failover pair', (i) => (i.clusters[2].failover = { standbyCluster: 'production' }), 'clusters[2].failover: got {"standbyCluster":"production"}; expected no second failover pair (clusters[1] already names a standby; settings.dns has one app record)'],
  ['TTL the alias records cannot have', (i) => (i.settings.dns.ttlSeconds = 30), 'settings.dns.ttlSeconds: got 30; expected 60 when a failover pair exists: the failover records are aliases of the ingress load balancers, whose TTL Route 53 fixes at 60 s'],
  ['hosted zone id missing', (i) => delete i.settings.dns.hostedZoneId, 'settings.dns.hostedZoneId: got nothing; expected a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits, such as Z0123456789ABCDEFGHIJ'],
  ['hosted zone id given as a name', (i) => (i.settings.dns.hostedZoneId = 'hakube.example.com'), 'settings.dns.hostedZoneId: got "hakube.example.com"; expected a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits, such as Z0123456789ABCDEFGHIJ'],
  ['hosted zone id with the API path prefix', (i) => (i.settings.dns.hostedZoneId = '/hostedzone/Z0HAKUBE'), 'settings.dns.hostedZoneId: got "/hostedzone/Z0HAKUBE"; expected a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits, such as Z0123456789ABCDEFGHIJ'],
  ['duplicate cluster names', (i) => (i.clusters[2].name = 'staging'), 'clusters[2].name: got "staging"; expected a unique name (clusters[0] has it)'],
  ['two clusters sync one folder', (i) => (i.clusters[2].gitops = { path: 'clusters/production' }), 'clusters[2].gitops.path: got "clusters/production"; expected a folder of its own (clusters[1] syncs it)'],
  ['unknown Git auth', (i) => (i.clusters[0].gitops.auth = 'ssh'), 'clusters[0].gitops.auth: got "ssh"; expected token (private repository, token at names.ssm.gitCredentials) or none (public repository)'],
  ['organization prefix too long for bucket names', (i) => (i.settings.organization = 'acme-corporation'), 'settings.organization: got "acme-corporation"; expected at most 12 characters (AWS resource name limits)'],
  ['bad GitHub owner', (i) => (i.settings.github.owner = 'acme corp'), 'settings.github.owner: got "acme corp"; expected a GitHub user or organisation name'],
  ['state region unknown', (i) => (i.settings.state.region = 'nowhere-1'), 'settings.state.region: got "nowhere-1"; expected one of ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-southeast-1, eu-central-1, eu-west-1, us-east-1, us-east-2, us-west-2'],
  ['state in the primary region of a failover pair', (i) => (i.settings.state.region = 'ap-northeast-2'), 'settings.state.region: got "ap-northeast-2"; expected a region outside the failover pair production (ap-northeast-2) / dr (ap-northeast-1): state there cannot be read or locked while that region is down, exactly when the other cluster must be planned and applied'],
  ['state in the standby region of a failover pair', (i) => (i.settings.state.region = 'ap-northeast-1'), 'settings.state.region: got "ap-northeast-1"; expected a region outside the failover pair production (ap-northeast-2) / dr (ap-northeast-1): state there cannot be read or locked while that region is down, exactly when the other cluster must be planned and applied'],
  // The application catalog (appCatalog): one wrong entry each.
  ['a tag instead of a digest', (i) => (i.appCatalog.apps.web.digests.staging = '2.53'), `appCatalog.apps.web.digests.staging: got "2.53"; expected a digest (${HEX}), not the tag "2.53": a tag can be moved to another image, a digest names exactly one`],
  ['a full image reference instead of the digest', (i) => (i.appCatalog.apps.web.digests.production = `registry.k8s.io/e2e-test-images/agnhost@${WEB}`), `appCatalog.apps.web.digests.production: got "registry.k8s.io/e2e-test-images/agnhost@sha256:99c6b4bb4a1e1df3f0b3752168c89...; expected the digest alone (${HEX}), not an image reference`],
  ['a digest one digit short', (i) => (i.appCatalog.apps.web.digests.staging = WEB.slice(0, -1)), `appCatalog.apps.web.digests.staging: got "${WEB.slice(0, -1)}"; expected ${HEX} (it has 63 characters after sha256:)`],
  ['a digest in upper case', (i) => (i.appCatalog.apps.web.digests.staging = WEB.toUpperCase().replace('SHA256', 'sha256')), `appCatalog.apps.web.digests.staging: got "${WEB.toUpperCase().replace('SHA256', 'sha256')}"; expected ${HEX} (it has 64 characters after sha256:, not all lowercase hexadecimal)`],
  ['a tag in the repository', (i) => (i.appCatalog.apps.web.repository = 'registry.k8s.io/e2e-test-images/agnhost:2.53'), 'appCatalog.apps.web.repository: got "registry.k8s.io/e2e-test-images/agnhost:2.53"; expected a lower-case image repository with its registry host and no tag or digest, such as registry.k8s.io/e2e-test-images/agnhost (the digest is per environment)'],
  [
    'a private ECR repository without ECR sign-in',
    (i) => (i.appCatalog.apps.web.repository = '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/acme/web'),
    'appCatalog.apps.web.registryAuth: got "anonymous"; expected "ecr" for 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/acme/web: a private ECR registry (ap-northeast-2) refuses anonymous pulls; the release workflow\'s AWS role signs in with aws ecr get-login-password',
  ],
  ['ECR sign-in for a repository not on ECR', (i) => (i.appCatalog.apps.web.registryAuth = 'ecr'), 'appCatalog.apps.web.registryAuth: got "ecr"; expected "anonymous" or "github-token" for registry.k8s.io/e2e-test-images/agnhost: "ecr" signs in to a private ECR host (<account>.dkr.ecr.<region>.amazonaws.com) only'],
  ['GitHub token sign-in outside ghcr.io', (i) => (i.appCatalog.apps.web.registryAuth = 'github-token'), 'appCatalog.apps.web.registryAuth: got "github-token"; expected "github-token" for ghcr.io repositories only (registry.k8s.io/e2e-test-images/agnhost is not one): the job\'s GITHUB_TOKEN signs in to ghcr.io alone'],
  ['unknown registry sign-in', (i) => (i.appCatalog.apps.web.registryAuth = 'password'), 'appCatalog.apps.web.registryAuth: got "password"; expected one of anonymous, ecr, github-token'],
  ['HPA minimum above the maximum', (i) => (i.appCatalog.apps.web.scaling.minReplicas = 13), 'appCatalog.apps.web.scaling.minReplicas: got 13; expected at most maxReplicas (12)'],
  [
    'HPA minimum below one replica per zone',
    (i) => (i.appCatalog.apps['orders-api'].scaling.minReplicas = 2),
    'appCatalog.apps.orders-api.scaling.minReplicas: got 2; expected at least 3, one replica per Availability Zone of dr (ap-northeast-1a, ap-northeast-1c, ap-northeast-1d): the HA workload pattern spreads one per zone so losing a zone never takes every replica',
  ],
  [
    'HPA maximum below the one-per-zone default minimum',
    (i) => (i.appCatalog.apps.web.scaling.maxReplicas = 2),
    'appCatalog.apps.web.scaling.maxReplicas: got 2; expected at least 3: minReplicas defaults to one per Availability Zone, and dr spans 3',
  ],
  ['HPA target outside 10–95 %', (i) => (i.appCatalog.apps.web.scaling.targetCpuPercent = 100), 'appCatalog.apps.web.scaling.targetCpuPercent: got 100; expected 10 to 95'],
  [
    'CPU requests above the largest worker',
    (i) => (i.appCatalog.apps.web.resources.requests.cpuMillis = 3000),
    "appCatalog.apps.web.resources.requests.cpuMillis: got 3000; expected at most 1930, the allocatable millicores of t3.large, the largest instance type of staging's worker pools a pod without tolerations runs on (general)",
  ],
  [
    'memory requests above the largest untainted worker (the tainted burst pool does not count)',
    (i) => {
      i.clusters[1].workerPools[0].instanceTypes = ['m7i.large'];
      i.clusters[1].workerPools[1].instanceTypes = ['m7i.2xlarge'];
      i.appCatalog.apps.web.clusters = ['production', 'dr'];
      delete i.appCatalog.apps.web.digests.staging;
      i.appCatalog.apps.web.resources.requests.memoryMiB = 7000;
      i.appCatalog.apps.web.resources.limits.memoryMiB = 8000;
    },
    "appCatalog.apps.web.resources.requests.memoryMiB: got 7000; expected at most 5843, the allocatable MiB of m7i.large, the largest instance type of production's worker pools a pod without tolerations runs on (general)",
  ],
  ['a memory limit below the request', (i) => (i.appCatalog.apps.web.resources.limits.memoryMiB = 64), 'appCatalog.apps.web.resources.limits.memoryMiB: got 64; expected at least requests.memoryMiB (128)'],
  ['an unknown cluster', (i) => (i.appCatalog.apps.web.clusters[1] = 'tokyo'), 'appCatalog.apps.web.clusters[1]: got "tokyo"; expected the name of a cluster: staging, production, dr'],
  ['no digest for an environment that runs the app', (i) => delete i.appCatalog.apps.web.digests.staging, 'appCatalog.apps.web.digests.staging: got nothing; expected a digest for staging, where staging runs web'],
  [
    'no production digest: the standby runs it too',
    (i) => delete i.appCatalog.apps.web.digests.production,
    'appCatalog.apps.web.digests.production: got nothing; expected a digest for production, where dr, production run web (dr is the standby of production and runs its digest)',
  ],
  ['a digest of its own for the standby', (i) => (i.appCatalog.apps.web.digests['disaster-recovery'] = WEB), `appCatalog.apps.web.digests.disaster-recovery: got "${WEB}"; expected no digest of its own: dr is the standby of production and runs its digest`],
  ['a digest for an environment that runs nothing', (i) => (i.appCatalog.apps.web.clusters = ['production', 'dr']), `appCatalog.apps.web.digests.staging: got "${WEB}"; expected no digest: no cluster running web is a staging cluster (web.clusters lists production, dr)`],
  ['a digest never released', (i) => (i.appCatalog.apps.web.digests.production = `sha256:${'a'.repeat(64)}`), `appCatalog.apps.web.digests.production: got "sha256:${'a'.repeat(64)}"; expected a digest recorded in web.history (pipeline release records each one, and a rollback promotes one of them)`],
  ['a revoked mark that is not a boolean', (i) => (i.appCatalog.apps.web.history[0].revoked = 'yes'), 'appCatalog.apps.web.history[0].revoked: got "yes"; expected true or false (true: promote-release refuses this digest)'],
  ['an unknown field', (i) => (i.appCatalog.apps.web.replica = 3), 'appCatalog.apps.web.replica: got 3; expected no such field (check its spelling against the AppCatalog type)'],
  ['a signature issuer that is not a URL', (i) => (i.appCatalog.apps.web.signature = { certificateIdentity: 'x', certificateOidcIssuer: 'github' }), 'appCatalog.apps.web.signature.certificateOidcIssuer: got "github"; expected the OIDC issuer URL, e.g. https://token.actions.githubusercontent.com'],
  // Placeholders: allowed on the shipped example platform, rejected on one that is applied.
  ['example switch not a boolean', (i) => (i.settings.example = 'yes'), 'settings.example: got "yes"; expected true or false'],
  ['documentation range on a platform that is applied', (i) => (i.settings.example = false), `clusters[1].apiEndpoint.allowedCidrs[1]: got "198.51.100.0/24"; expected the addresses of real clients, not a range overlapping the documentation range 198.51.100.0/24 (RFC 5737, never routed) ${REAL}`],
  ['range wider than a documentation range on a platform that is applied', (i) => {
    i.settings.example = false;
    i.clusters[0].apiEndpoint.allowedCidrs = ['192.0.0.0/16'];
  }, `clusters[0].apiEndpoint.allowedCidrs[0]: got "192.0.0.0/16"; expected the addresses of real clients, not a range overlapping the documentation range 192.0.2.0/24 (RFC 5737, never routed) ${REAL}`],
  ['range inside a documentation range on a platform that is applied', (i) => {
    i.settings.example = false;
    i.clusters[2].apiEndpoint.allowedCidrs = ['203.0.113.64/26'];
  }, `clusters[2].apiEndpoint.allowedCidrs[0]: got "203.0.113.64/26"; expected the addresses of real clients, not a range overlapping the documentation range 203.0.113.0/24 (RFC 5737, never routed) ${REAL}`],
  ['reserved zone name on a platform that is applied', (i) => (i.settings.example = false), `settings.dns.hostedZoneName: got "hakube.example.com"; expected a zone you own, not one under a reserved name (example.com, example.net, example.org, example, test, invalid, localhost: RFC 2606) ${REAL}`],
  ['made-up zone id on a platform that is applied', (i) => (i.settings.example = false), `settings.dns.hostedZoneId: got "Z0HAKUBE"; expected the id of the real zone (aws route53 list-hosted-zones-by-name), not a placeholder: ids have at least 13 characters and spell no EXAMPLE ${REAL}`],
  ['account id not 12 digits', (i) => (i.settings.accountId = '1234-5678-9012'), 'settings.accountId: got "1234-5678-9012"; expected a 12-digit AWS account id'],
  ['documentation account id on a platform that is applied', (i) => (i.settings.example = false), `settings.accountId: got "123456789012"; expected the real account id (aws sts get-caller-identity), not the documentation placeholder 123456789012 ${REAL}`],
  ['zone id spelling EXAMPLE on a platform that is applied', (i) => {
    i.settings.example = false;
    i.settings.dns.hostedZoneId = 'Z0EXAMPLE123456789';
  }, `settings.dns.hostedZoneId: got "Z0EXAMPLE123456789"; expected the id of the real zone (aws route53 list-hosted-zones-by-name), not a placeholder: ids have at least 13 characters and spell no EXAMPLE ${REAL}`],
];

/** The shipped platform with real values in place of its placeholders, and example removed. */
function madeReal(i: { settings: Raw; clusters: Raw[]; amiLock: Raw }): void {
  delete i.settings.example;
  i.settings.accountId = '210987654321';
  i.settings.dns.hostedZoneName = 'hakube.io';
  i.settings.dns.hostedZoneId = 'Z04178122G3ZKXW4BXQ1V';
  for (const cluster of i.clusters) cluster.apiEndpoint.allowedCidrs = ['52.78.10.0/24'];
  i.amiLock['ap-northeast-1'].x86_64.imageId = 'ami-0f3a9c1d2b4e5f607';
  i.amiLock['ap-northeast-2'].x86_64.imageId = 'ami-09b1c2d3e4f5a6b7c';
}

describe('placeholders', () => {
  it('marks the shipped platform as an example, so placeholders pass but it is never applied', () => {
    expect(loadPlatform(platformInput).settings.example).toBe(true);
  });

  it('rejects every placeholder of the shipped platform at once when it is not an example', () => {
    expect(problems(withChange((i) => (i.settings.example = false)))).toEqual([
      expect.stringMatching(/^clusters\[0\]\.apiEndpoint\.allowedCidrs\[0\]: got "203\.0\.113\.0\/24"/),
      expect.stringMatching(/^clusters\[1\]\.apiEndpoint\.allowedCidrs\[0\]: got "203\.0\.113\.0\/24"/),
      expect.stringMatching(/^clusters\[1\]\.apiEndpoint\.allowedCidrs\[1\]: got "198\.51\.100\.0\/24"/),
      expect.stringMatching(/^clusters\[2\]\.apiEndpoint\.allowedCidrs\[0\]: got "203\.0\.113\.0\/24"/),
      expect.stringMatching(/^clusters\[2\]\.apiEndpoint\.allowedCidrs\[1\]: got "198\.51\.100\.0\/24"/),
      expect.stringMatching(/^settings\.accountId: got "123456789012"/),
      expect.stringMatching(/^settings\.dns\.hostedZoneName: got "hakube\.example\.com"/),
      expect.stringMatching(/^settings\.dns\.hostedZoneId: got "Z0HAKUBE"/),
      expect.stringMatching(/^amiLock\.ap-northeast-2\.x86_64\.imageId: got "ami-0abcdef1234567890"/),
      expect.stringMatching(/^amiLock\.ap-northeast-1\.x86_64\.imageId: got "ami-0123456789abcdef0"/),
    ]);
  });

  it('accepts real values with example left out (it defaults to false)', () => {
    const platform = loadPlatform(withChange(madeReal));
    expect(platform.settings.example).toBe(false);
    expect(platform.cluster('production').apiEndpoint.allowedCidrs).toEqual(['52.78.10.0/24']);
  });

  it('accepts ranges next to, but not overlapping, a documentation range', () => {
    expect(() => loadPlatform(withChange((i) => {
      madeReal(i);
      i.clusters[1].apiEndpoint.allowedCidrs = ['203.0.112.0/24', '203.0.114.0/23', '198.51.101.0/24'];
    }))).not.toThrow();
  });
});

describe('the shipped platform', () => {
  it('is valid and fills in defaults', () => {
    const platform = loadPlatform(platformInput);
    expect(platform.clusters.map((c) => c.name)).toEqual(['staging', 'production', 'dr']);
    expect(platform.cluster('production').clusterNetwork).toEqual({ podCidr: '100.64.0.0/16', serviceCidr: '100.65.0.0/16' });
  });
});

describe('invalid cluster definitions', () => {
  it('has a corpus of at least 30 cases', () => expect(corpus.length).toBeGreaterThanOrEqual(30));
  it.each(corpus)('rejects %s', (_title, change, message) => {
    const found = problems(withChange(change));
    expect(found).toContain(message);
    // A catalog entry touches nothing else, so its one mistake is the only problem reported.
    if (message.startsWith('appCatalog.')) expect(found).toEqual([message]);
  });

  it('reports every problem at once, not only the first', () => {
    const found = problems(withChange((i) => {
      i.clusters[1].controlPlane.count = 4;
      i.clusters[1].nat = 'single';
    }));
    expect(found).toHaveLength(2);
  });
});

describe('failover roles', () => {
  const platform = loadPlatform(platformInput);
  it('derives primary and standby from failover.standbyCluster', () => {
    expect(platform.failoverRoleOf('production')).toMatchObject({ role: 'primary', primary: { name: 'production' }, standby: { name: 'dr' } });
    expect(platform.failoverRoleOf('dr')).toMatchObject({ role: 'standby', primary: { name: 'production' }, standby: { name: 'dr' } });
    expect(platform.failoverRoleOf('staging')).toBeUndefined();
  });
  it('moves with the definition: another standby changes both roles', () => {
    const input = withChange((i) => {
      i.clusters[1].failover = { standbyCluster: 'staging' };
      i.clusters[0].region = 'ap-northeast-1';
      i.clusters[0].availabilityZones = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
      delete i.clusters[1].backups.replicaRegion;
      i.clusters[1].objectives.tolerateRegionLoss = false;
      // The catalog follows: staging, now the standby, runs production's digest (as dr still does).
      for (const app of Object.values(i.appCatalog.apps) as Raw[]) delete app.digests.staging;
    });
    const changed = loadPlatform(input);
    expect(changed.appOf('staging', 'web')?.digestEnvironment).toBe('production');
    expect(changed.failoverRoleOf('staging')?.role).toBe('standby');
    expect(changed.failoverRoleOf('dr')).toBeUndefined();
  });
});
