import type { ClusterDefinition, PlatformSettings } from './cluster-definition';
import type { ConfigIssue } from './config-error';
import { cidrsOverlap, isPrivateCidr, parseCidr } from './cidr';
import { LOAD_BALANCER_ALIAS_TTL_SECONDS } from './failover';
import { INSTANCE_TYPES, KNOWN_INSTANCE_TYPES } from './instance-types';
import { kubernetesMinor, SUPPORTED_KUBERNETES_MINORS } from './kubernetes-versions';
import { clusterNames } from './names';
import { MAX_AVAILABILITY_ZONES } from './network-layout';
import { documentationRangeOverlapping, isPlaceholderHostedZoneId, isReservedDomain, MIN_HOSTED_ZONE_ID_LENGTH, PLACEHOLDER_ACCOUNT_IDS, RESERVED_DOMAINS } from './placeholders';
import { REGION_AVAILABILITY_ZONES, SUPPORTED_REGIONS } from './regions';

/** metrics-server resolution (the chart's 15 s) + HPA sync (15 s): the least any scale-out takes. */
const SCALE_OUT_FLOOR_SECONDS = 30;

const MIN_VPC_PREFIX = 16;
const MAX_VPC_PREFIX = 20;
const MAX_S3_BUCKET_NAME = 63;
/** RFC 1035: a name of at most 253 characters (written without the final dot), each label at most 63. */
const MAX_DNS_NAME = 253;
const MAX_DNS_LABEL = 63;

type Report = (path: string, value: unknown, expected: string) => void;

/** Placeholder values are allowed only on an example platform, which is never applied. */
const REAL_PLATFORM_NOTE = 'while settings.example is false (a platform that is applied)';

/** Largest number of members one AZ holds when `count` members go round-robin over `zones`. */
export function largestZoneShare(count: number, zones: number): number {
  return Math.ceil(count / Math.max(zones, 1));
}

export function etcdQuorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** What breaks DNS limits in a derived name, or undefined when it fits. */
function dnsNameProblem(name: string): string | undefined {
  if (name.length > MAX_DNS_NAME) return `has ${name.length} characters (DNS allows ${MAX_DNS_NAME})`;
  const long = name.split('.').find((label) => label.length > MAX_DNS_LABEL);
  return long === undefined ? undefined : `has a label of ${long.length} characters (DNS allows ${MAX_DNS_LABEL} per label)`;
}

/** Rules that relate the fields of one (structurally valid) cluster to each other. */
export function clusterIssues(cluster: ClusterDefinition, settings: PlatformSettings, at: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report: Report = (path, value, expected) => issues.push({ path: `${at}.${path}`, value, expected });
  const { objectives } = cluster;
  const azLossNote = 'when objectives.tolerateAzLoss is true';

  const regionZones = REGION_AVAILABILITY_ZONES[cluster.region];
  if (!regionZones) {
    report('region', cluster.region, `expected one of ${SUPPORTED_REGIONS.join(', ')}`);
  } else {
    cluster.availabilityZones.forEach((az, i) => {
      if (!regionZones.includes(az)) report(`availabilityZones[${i}]`, az, `expected an AZ of ${cluster.region}: ${regionZones.join(', ')}`);
      if (cluster.availabilityZones.indexOf(az) !== i) report(`availabilityZones[${i}]`, az, 'expected each AZ once');
    });
  }
  if (cluster.availabilityZones.length > MAX_AVAILABILITY_ZONES) {
    report('availabilityZones', cluster.availabilityZones, `expected at most ${MAX_AVAILABILITY_ZONES} AZs (subnet layout)`);
  }
  if (objectives.tolerateAzLoss && cluster.availabilityZones.length < 3) {
    report('availabilityZones', cluster.availabilityZones, `expected at least 3 AZs ${azLossNote} (etcd keeps quorum only with a majority outside the lost AZ)`);
  }

  const vpc = parseCidr(cluster.vpcCidr);
  if (!vpc) {
    report('vpcCidr', cluster.vpcCidr, 'expected an IPv4 CIDR block such as 10.20.0.0/16 with no host bits set');
  } else if (!isPrivateCidr(vpc)) {
    report('vpcCidr', cluster.vpcCidr, 'expected a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16');
  } else if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > MAX_VPC_PREFIX) {
    report('vpcCidr', cluster.vpcCidr, `expected a prefix from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX} (AWS allows /16 at most; each AZ needs two /${MAX_VPC_PREFIX + 4} subnets or larger)`);
  }

  const ranges: [string, string][] = [['vpcCidr', cluster.vpcCidr], ['clusterNetwork.podCidr', cluster.clusterNetwork.podCidr], ['clusterNetwork.serviceCidr', cluster.clusterNetwork.serviceCidr]];
  ranges.forEach(([path, text], i) => {
    const cidr = parseCidr(text);
    if (i > 0 && !cidr) report(path, text, 'expected an IPv4 CIDR block with no host bits set');
    if (!cidr) return;
    ranges.slice(0, i).forEach(([otherPath, otherText]) => {
      const other = parseCidr(otherText);
      if (other && cidrsOverlap(cidr, other)) report(path, text, `expected no overlap with ${otherPath} (${otherText})`);
    });
  });

  const minor = kubernetesMinor(cluster.kubernetesVersion);
  if (!SUPPORTED_KUBERNETES_MINORS.includes(minor)) {
    report('kubernetesVersion', cluster.kubernetesVersion, `expected a supported minor version: ${SUPPORTED_KUBERNETES_MINORS.join(', ')}`);
  }

  const checkInstanceType = (path: string, type: string) => {
    if (!INSTANCE_TYPES[type]) report(path, type, `expected a known instance type: ${KNOWN_INSTANCE_TYPES.join(', ')}`);
  };
  const cp = cluster.controlPlane;
  checkInstanceType('controlPlane.instanceType', cp.instanceType);
  if (cp.count % 2 === 0) {
    report('controlPlane.count', cp.count, 'expected an odd number (an even etcd membership tolerates no more failures than one less)');
  } else if (objectives.tolerateAzLoss && cp.count < 3) {
    report('controlPlane.count', cp.count, `expected 3, 5 or 7 ${azLossNote}`);
  } else if (objectives.tolerateAzLoss && cluster.availabilityZones.length >= 3) {
    const share = largestZoneShare(cp.count, cluster.availabilityZones.length);
    if (cp.count - share < etcdQuorum(cp.count)) {
      report('controlPlane.count', cp.count, `expected a count whose largest AZ share (${share}) leaves etcd quorum (${etcdQuorum(cp.count)}) ${azLossNote}`);
    }
  }

  const poolNames = new Set<string>();
  cluster.workerPools.forEach((pool, i) => {
    const at = `workerPools[${i}]`;
    if (poolNames.has(pool.name)) report(`${at}.name`, pool.name, 'expected a pool name used once per cluster');
    poolNames.add(pool.name);
    pool.instanceTypes.forEach((type, j) => checkInstanceType(`${at}.instanceTypes[${j}]`, type));
    const architectures = new Set(pool.instanceTypes.map((t) => INSTANCE_TYPES[t]?.architecture).filter(Boolean));
    if (architectures.size > 1) report(`${at}.instanceTypes`, pool.instanceTypes, 'expected one CPU architecture per pool (one launch template image)');
    const sizes = new Set(pool.instanceTypes.flatMap((t) => (INSTANCE_TYPES[t] ? [`${INSTANCE_TYPES[t].vcpu} vCPU / ${INSTANCE_TYPES[t].memoryMiB} MiB`] : [])));
    if (sizes.size > 1) report(`${at}.instanceTypes`, pool.instanceTypes, `expected instance types of one size per pool, not ${[...sizes].join(' and ')}: the kubelet reserves are rendered per pool (node-allocatable.ts) and cluster-autoscaler sizes a mixed-instances group by one of its types`);
    if (pool.minPerAz > pool.maxPerAz) report(`${at}.minPerAz`, pool.minPerAz, `expected at most maxPerAz (${pool.maxPerAz})`);
  });

  cluster.apiEndpoint.allowedCidrs.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (!cidr) report(`apiEndpoint.allowedCidrs[${i}]`, text, 'expected an IPv4 CIDR block with no host bits set');
    else if (cidr.prefix < 8) report(`apiEndpoint.allowedCidrs[${i}]`, text, 'expected a range of /8 or narrower (never the whole internet on the API)');
    else if (!settings.example) {
      const documentation = documentationRangeOverlapping(cidr);
      if (documentation) report(`apiEndpoint.allowedCidrs[${i}]`, text, `expected the addresses of real clients, not a range overlapping the documentation range ${documentation} (RFC 5737, never routed) ${REAL_PLATFORM_NOTE}`);
    }
  });
  if (cluster.apiEndpoint.exposure === 'internet-facing' && cluster.apiEndpoint.allowedCidrs.length === 0) {
    report('apiEndpoint.allowedCidrs', cluster.apiEndpoint.allowedCidrs, 'expected at least one CIDR when exposure is internet-facing (the public endpoint admits only these networks; in-cluster clients use the internal one)');
  }
  if (cluster.apiEndpoint.dnsRecord && !settings.dns) {
    report('apiEndpoint.dnsRecord', cluster.apiEndpoint.dnsRecord, 'expected false while settings.dns is not set (the API alias record lives in its hosted zone)');
  }
  if (cluster.apiEndpoint.dnsRecord && cluster.apiEndpoint.exposure === 'internal') {
    report('apiEndpoint.dnsRecord', cluster.apiEndpoint.dnsRecord, 'expected false when apiEndpoint.exposure is internal (the public record names the internet-facing load balancer; in-cluster clients use the private zone)');
  }

  if (objectives.tolerateAzLoss && cluster.nat === 'single') {
    report('nat', cluster.nat, `expected per-az ${azLossNote} (one NAT gateway takes every private subnet's egress down with its AZ)`);
  }

  const replica = cluster.backups.replicaRegion;
  if (replica !== undefined) {
    if (!REGION_AVAILABILITY_ZONES[replica]) report('backups.replicaRegion', replica, `expected one of ${SUPPORTED_REGIONS.join(', ')}`);
    else if (replica === cluster.region) report('backups.replicaRegion', replica, `expected a region other than the cluster's own (${cluster.region})`);
  }
  // The standby region's bucket exists only for a failover primary with a replica region (names.appWalArchive).
  if (cluster.backups.databaseStore?.kind === 'standby-region' && (!cluster.failover || replica === undefined)) {
    report('backups.databaseStore', cluster.backups.databaseStore, 'expected DatabaseStore.ownRegion() or nothing: DatabaseStore.standbyRegion() needs failover.standbyCluster and backups.replicaRegion (the bucket in the standby\'s region)');
  }
  if (objectives.rpoMinutes < cluster.backups.etcdSnapshotIntervalMinutes) {
    report('objectives.rpoMinutes', objectives.rpoMinutes, `expected at least backups.etcdSnapshotIntervalMinutes (${cluster.backups.etcdSnapshotIntervalMinutes}): snapshots are the recovery point`);
  }
  if (objectives.regionRtoSeconds !== undefined) {
    if (!cluster.failover) {
      report('objectives.regionRtoSeconds', objectives.regionRtoSeconds, 'expected failover.standbyCluster with a regional RTO (only a standby in another region recovers from losing this one)');
    } else if (objectives.regionRtoSeconds <= LOAD_BALANCER_ALIAS_TTL_SECONDS) {
      report('objectives.regionRtoSeconds', objectives.regionRtoSeconds, `expected more than ${LOAD_BALANCER_ALIAS_TTL_SECONDS} s: resolvers keep the lost region's answer for the DNS TTL alone, before detection and promotion`);
    }
  }
  // No pod is added before metrics-server has scraped the load and the HPA controller has looked at it.
  if (objectives.scaleOutSeconds !== undefined && objectives.scaleOutSeconds < SCALE_OUT_FLOOR_SECONDS) {
    report('objectives.scaleOutSeconds', objectives.scaleOutSeconds, `expected at least ${SCALE_OUT_FLOOR_SECONDS} s: metrics-server's 15 s resolution and the HPA controller's 15 s sync come before the first new pod`);
  }
  if (objectives.tolerateRegionLoss) {
    if (!cluster.failover) report('failover', cluster.failover, 'expected failover.standbyCluster when objectives.tolerateRegionLoss is true');
    if (replica === undefined) report('backups.replicaRegion', replica, 'expected a replica region when objectives.tolerateRegionLoss is true');
  }

  const names = clusterNames(cluster, settings);
  for (const bucket of [names.etcdBackupBucket, names.etcdBackupReplicaBucket, names.appBackupBucket, names.appBackupReplicaBucket]) {
    if (bucket && bucket.length > MAX_S3_BUCKET_NAME) {
      report('name', cluster.name, `expected a shorter name: derived bucket ${bucket} has ${bucket.length} characters (S3 allows ${MAX_S3_BUCKET_NAME})`);
    }
  }
  const apiHostnameProblem = names.apiHostname ? dnsNameProblem(names.apiHostname) : undefined;
  if (apiHostnameProblem) {
    report('apiEndpoint.dnsRecord', cluster.apiEndpoint.dnsRecord, `expected false or a shorter settings.dns.hostedZoneName: derived API record api.${cluster.name}.<settings.dns.hostedZoneName> ${apiHostnameProblem}`);
  }
  return issues;
}

/** Rules across clusters: unique names and paths, no overlapping VPCs, valid failover pairs. */
export function platformIssues(clusters: readonly ClusterDefinition[], settings: PlatformSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!REGION_AVAILABILITY_ZONES[settings.state.region]) {
    issues.push({ path: 'settings.state.region', value: settings.state.region, expected: `expected one of ${SUPPORTED_REGIONS.join(', ')}` });
  }
  if (clusters.length === 0) issues.push({ path: 'clusters', value: [], expected: 'expected at least one cluster' });
  // One app record, so at most one primary/standby pair, and its records need the zone.
  const primaries = clusters.flatMap((c, i) => (c.failover ? [i] : []));
  if (primaries.length > 0 && !settings.dns) {
    issues.push({ path: 'settings.dns', value: settings.dns, expected: `expected a hosted zone when clusters[${primaries[0]}].failover.standbyCluster is set (the Route 53 failover records live in it)` });
  }
  if (primaries.length > 0 && settings.dns && settings.dns.ttlSeconds !== LOAD_BALANCER_ALIAS_TTL_SECONDS) {
    issues.push({ path: 'settings.dns.ttlSeconds', value: settings.dns.ttlSeconds, expected: `expected ${LOAD_BALANCER_ALIAS_TTL_SECONDS} when a failover pair exists: the failover records are aliases of the ingress load balancers, whose TTL Route 53 fixes at ${LOAD_BALANCER_ALIAS_TTL_SECONDS} s` });
  }
  if (settings.accountId && !settings.example && PLACEHOLDER_ACCOUNT_IDS.includes(settings.accountId)) {
    issues.push({ path: 'settings.accountId', value: settings.accountId, expected: `expected the real account id (aws sts get-caller-identity), not the documentation placeholder ${settings.accountId} ${REAL_PLATFORM_NOTE}` });
  }
  if (settings.dns && !settings.example) {
    const { hostedZoneName, hostedZoneId } = settings.dns;
    if (isReservedDomain(hostedZoneName)) {
      issues.push({ path: 'settings.dns.hostedZoneName', value: hostedZoneName, expected: `expected a zone you own, not one under a reserved name (${RESERVED_DOMAINS.join(', ')}: RFC 2606) ${REAL_PLATFORM_NOTE}` });
    }
    if (isPlaceholderHostedZoneId(hostedZoneId)) {
      issues.push({ path: 'settings.dns.hostedZoneId', value: hostedZoneId, expected: `expected the id of the real zone (aws route53 list-hosted-zones-by-name), not a placeholder: ids have at least ${MIN_HOSTED_ZONE_ID_LENGTH} characters and spell no EXAMPLE ${REAL_PLATFORM_NOTE}` });
    }
  }
  if (settings.dns) {
    const appHostname = `${settings.dns.appRecord}.${settings.dns.hostedZoneName}`;
    const problem = dnsNameProblem(appHostname);
    if (problem) issues.push({ path: 'settings.dns.hostedZoneName', value: settings.dns.hostedZoneName, expected: `expected a name whose app record ${settings.dns.appRecord}.<hostedZoneName> fits DNS: it ${problem}` });
  }
  for (const i of primaries.slice(1)) {
    issues.push({ path: `clusters[${i}].failover`, value: clusters[i].failover, expected: `expected no second failover pair (clusters[${primaries[0]}] already names a standby; settings.dns has one app record)` });
  }
  clusters.forEach((cluster, i) => {
    const first = clusters.findIndex((c) => c.name === cluster.name);
    if (first !== i) issues.push({ path: `clusters[${i}].name`, value: cluster.name, expected: `expected a unique name (clusters[${first}] has it)` });
    const path = clusterNames(cluster, settings).gitopsPath;
    const samePath = clusters.findIndex((c) => clusterNames(c, settings).gitopsPath === path);
    if (first === i && samePath !== i) issues.push({ path: `clusters[${i}].gitops.path`, value: path, expected: `expected a folder of its own (clusters[${samePath}] syncs it)` });
    const vpc = parseCidr(cluster.vpcCidr);
    clusters.slice(0, i).forEach((other, j) => {
      const otherVpc = parseCidr(other.vpcCidr);
      if (vpc && otherVpc && cidrsOverlap(vpc, otherVpc)) {
        issues.push({ path: `clusters[${i}].vpcCidr`, value: cluster.vpcCidr, expected: `expected no overlap with clusters[${j}].vpcCidr (${other.vpcCidr}, ${other.name}) so the VPCs can be peered` });
      }
    });
    if (cluster.failover) {
      const standby = clusters.find((c) => c.name === cluster.failover?.standbyCluster);
      const at = `clusters[${i}].failover.standbyCluster`;
      const value = cluster.failover.standbyCluster;
      if (!standby) issues.push({ path: at, value, expected: `expected the name of another cluster: ${clusters.map((c) => c.name).filter((n) => n !== cluster.name).join(', ')}` });
      else if (standby.name === cluster.name) issues.push({ path: at, value, expected: 'expected another cluster than itself' });
      else if (standby.region === cluster.region) issues.push({ path: at, value, expected: `expected a cluster in another region than ${cluster.region}` });
      else if (cluster.backups.replicaRegion !== undefined && cluster.backups.replicaRegion !== standby.region) {
        issues.push({ path: `clusters[${i}].backups.replicaRegion`, value: cluster.backups.replicaRegion, expected: `expected the standby cluster's region (${standby.region}) so it can restore from the replica` });
      }
      if (standby && (settings.state.region === cluster.region || settings.state.region === standby.region)) {
        issues.push({ path: 'settings.state.region', value: settings.state.region, expected: `expected a region outside the failover pair ${cluster.name} (${cluster.region}) / ${standby.name} (${standby.region}): state there cannot be read or locked while that region is down, exactly when the other cluster must be planned and applied` });
      }
    }
  });
  return issues;
}
