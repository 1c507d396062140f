import type { FindingId } from '../finding-catalogue';
import { rpoFigure } from '../report/rpo-figure';
import type { Findings } from '../findings';
import type { DeploymentModel, DnsFailoverRecordModel, InfraModel } from '../model';
import type { Objectives } from '../objectives';
import type { DnsFailoverOutcome, RegionScenario } from '../report-types';
import { derivePromotion, promotionScaleUp, standingCapacity } from './promotion-estimate';
import { DATABASE_RECOVERY_DEFAULTS, S3_REPLICATION_TYPICAL_MINUTES, S3_RTC_MINUTES, WAL_ARCHIVER_BOUND_MINUTES } from '../recovery-times';

const SCENARIO = 'region-loss';
/** Route 53's advice for failover records: resolvers should drop a dead answer within a minute. */
const MAX_FAILOVER_TTL_SECONDS = 60;

/** The app's failover record: the one aliasing an ingress NLB, else the one named after the cluster, else the first. */
function appRecord(infra: InfraModel, cluster: string | undefined): DnsFailoverRecordModel | undefined {
  const ingress = new Set(infra.loadBalancers.filter((lb) => lb.role === 'ingress').map((lb) => lb.address));
  const records = infra.dnsFailoverRecords;
  return records.find((r) => r.aliasLoadBalancer !== undefined && ingress.has(r.aliasLoadBalancer)) ?? records.find((r) => cluster !== undefined && r.setIdentifier === cluster) ?? records[0];
}

const lbName = (infra: InfraModel, address: string | undefined): string | undefined => (address === undefined ? undefined : (infra.loadBalancers.find((lb) => lb.address === address)?.name ?? address));

function dnsOutcome(model: DeploymentModel, objectives: Objectives, cluster: string | undefined): DnsFailoverOutcome | undefined {
  const record = appRecord(model.infra, cluster);
  if (!record) return undefined;
  const hc = record.healthCheck;
  const standbyRecord = model.standby ? appRecord(model.standby, objectives.standbyCluster) : undefined;
  return {
    record: record.address,
    name: record.name,
    role: record.failover,
    expectedRole: objectives.primaryCluster ? 'SECONDARY' : 'PRIMARY',
    setIdentifier: record.setIdentifier,
    target: lbName(model.infra, record.aliasLoadBalancer),
    healthCheck: hc ? { type: hc.type, fqdn: hc.fqdn, port: hc.port, resourcePath: hc.resourcePath, requestIntervalSeconds: hc.requestIntervalSeconds, failureThreshold: hc.failureThreshold } : undefined,
    detectionSeconds: hc ? hc.requestIntervalSeconds * hc.failureThreshold : undefined,
    ttlSeconds: record.ttlSeconds,
    ttlSource: record.ttlSource,
    standbyRecord: model.standby === undefined ? undefined : standbyRecord ? { role: standbyRecord.failover, healthCheck: standbyRecord.healthCheck !== undefined, target: lbName(model.standby, standbyRecord.aliasLoadBalancer) } : null,
  };
}

const s3Bucket = (url: string | undefined): string | undefined => /^s3:\/\/([^/]+)/.exec(url ?? '')?.[1];

/**
 * Losing the whole region: standby, DNS failover, replicated backups, promotion path, and the
 * regional RTO/RPO. Region findings are errors when the cluster promises to survive a region
 * loss, warnings when it is only part of a failover pair, and not raised otherwise.
 */
export function regionScenario(model: DeploymentModel, objectives: Objectives, findings: Findings, cluster: string | undefined): RegionScenario {
  const region = model.infra.region ?? 'unknown';
  const problems: string[] = [];
  const paired = objectives.standbyCluster !== undefined || objectives.primaryCluster !== undefined;
  const report = objectives.tolerateRegionLoss || paired;
  const add = (id: FindingId, subject: string, message: string, vars?: Record<string, string | number>): void => {
    if (report) findings.add(id, subject, message, { scenarios: [SCENARIO], ...(vars ? { vars } : {}) });
  };

  // Backups out of the region (etcd snapshots; database archives).
  const replicas = model.infra.backupReplications
    // A copy into the lost region itself (a replica bucket's copy back home) survives nothing.
    .filter((r) => r.enabled && r.destinationRegion !== undefined && r.destinationRegion !== (r.sourceRegion ?? region) && r.destinationRegion !== region)
    .map((r) => ({ source: r.sourceBucket, destination: r.destinationBucket, region: r.destinationRegion, lag: r.replicationTimeMinutes }));
  if (replicas.length === 0) {
    problems.push('etcd backups stay in the region');
    findings.add('backup.not-replicated', 'etcd backups', `no S3 replication of the backup bucket to another region${model.infra.backupBuckets.length ? ` (${model.infra.backupBuckets.join(', ')})` : ''}: losing ${region} loses every snapshot`, { scenarios: [SCENARIO] });
  } else if (objectives.replicaRegion && !replicas.some((r) => r.region === objectives.replicaRegion)) {
    findings.add('backup.replica-region-mismatch', 'etcd backups', `replicated to ${replicas.map((r) => r.region).join(', ')}, declared ${objectives.replicaRegion}`, { scenarios: [SCENARIO] });
  }
  const replicatedSources = new Set(replicas.map((r) => r.source));
  // An archive whose bucket lives in another region (its provider alias in the Terraform, a replica's destination, or the
  // Cluster's endpointURL) is written there directly: out of the region when archive_command returns, replication or not.
  const replicaRegions = new Map(replicas.map((r) => [r.destination, r.region]));
  const elsewhere = (r: string | undefined): string | undefined => (r !== undefined && r !== region ? r : undefined);
  const databaseArchives = model.manifests.databaseArchives.map((d) => {
    const bucket = s3Bucket(d.destination) ?? '';
    const writtenToRegion = replicaRegions.get(bucket) ?? elsewhere(model.infra.bucketRegions[bucket]) ?? elsewhere(d.endpointRegion);
    return { ...d, replicated: replicatedSources.has(bucket) || writtenToRegion !== undefined, ...(writtenToRegion ? { writtenToRegion } : {}) };
  });
  for (const d of databaseArchives.filter((x) => !x.replicated && (report || objectives.requireCrossRegionBackups))) {
    problems.push(`${d.id} archive stays in the region`);
    findings.add('backup.database-not-replicated', d.id, `WAL archive ${d.destination ?? '(unknown destination)'} is not replicated out of ${region}: a region loss loses the database`, { scenarios: [SCENARIO] });
  }

  // RPO: etcd snapshot interval, database archive timeout.
  const found = model.infra.hints.etcdSnapshotIntervalMinutes ?? model.manifests.hints.etcdSnapshotIntervalMinutes;
  const interval = found ?? objectives.etcdSnapshotIntervalMinutes;
  const source = model.infra.hints.etcdSnapshotIntervalMinutes !== undefined ? 'terraform' : model.manifests.hints.etcdSnapshotIntervalMinutes !== undefined ? 'manifests' : interval !== undefined ? 'declared' : 'unknown';
  if (objectives.rpoMinutes !== undefined) {
    if (interval === undefined) {
      findings.add('backup.snapshot-interval-unknown', 'etcd backups', 'no etcd snapshot schedule found in the output or the objectives: RPO cannot be checked', { scenarios: [SCENARIO] });
    } else if (interval > objectives.rpoMinutes) {
      problems.push(`RPO ${interval} min > ${objectives.rpoMinutes} min`);
      findings.add('backup.rpo-exceeded', 'etcd backups', `snapshots every ${interval} min lose up to ${interval} min of cluster state, above the RPO of ${objectives.rpoMinutes} min`, { scenarios: [SCENARIO], vars: { minutes: objectives.rpoMinutes } });
    }
  }
  // A promotion keeps the standby's own control plane: etcd is not restored, so only the
  // databases' replicated archives count; a cluster without a standby restores etcd elsewhere.
  const etcdRestored = !objectives.standbyCluster;
  const etcdMinutes = replicas.length > 0 && etcdRestored ? interval : undefined;
  const databaseMinutes = databaseArchives.length === 0 ? undefined : databaseArchives.every((d) => d.replicated) ? Math.max(...databaseArchives.map((d) => d.archiveTimeoutMinutes)) : null;
  const rpoParts = [etcdMinutes, databaseMinutes ?? undefined, etcdRestored ? undefined : 0].filter((m): m is number => m !== undefined);
  // What was written last before the loss may still be on its way to the other region; when only the databases count
  // (etcd not restored) and each writes its archive into the other region, nothing is: the archiver's upload bound instead.
  const direct = !etcdRestored && databaseArchives.length > 0 && databaseArchives.every((d) => d.writtenToRegion !== undefined);
  const archiverMinutes = direct ? WAL_ARCHIVER_BOUND_MINUTES : undefined;
  // Only the replications that carry what the recovery restores add their lag: the databases' archives, and etcd's
  // snapshots only when etcd is restored (a promoted standby keeps its own control plane).
  const archiveBuckets = new Set(databaseArchives.map((d) => s3Bucket(d.destination)));
  const carried = replicas.filter((r) => etcdRestored || archiveBuckets.has(r.source));
  const replicationLagMinutes = replicas.length > 0 || direct ? (direct || carried.length === 0 ? 0 : Math.max(...carried.map((r) => r.lag ?? S3_REPLICATION_TYPICAL_MINUTES))) : undefined;
  const unbounded = replicas.filter((r) => r.lag === undefined);
  if (unbounded.length > 0 && report) {
    findings.add('backup.replication-lag-unbounded', unbounded.map((r) => r.source).join(', '), `S3 replication without Replication Time Control has no time bound (most objects within ${S3_REPLICATION_TYPICAL_MINUTES} min, some hours): the regional RPO counts the typical ${S3_REPLICATION_TYPICAL_MINUTES} min`, { scenarios: [SCENARIO], vars: { minutes: S3_RTC_MINUTES } });
  }
  const rpoMinutes = (replicas.length > 0 || direct) && rpoParts.length > 0 ? Math.max(...rpoParts) + (archiverMinutes ?? 0) + (replicationLagMinutes ?? 0) : undefined;
  // The RPO objective holds in every scenario it applies to: the region's loss too (lag included). A declared regional
  // RPO always applies; rpoMinutes applies to the region's loss when the cluster is paired or promises to survive it.
  // Above an objective that applies is an error: the report never prints EXCEEDED beside a passing verdict.
  const rpoObjective = objectives.regionRpoSeconds !== undefined ? objectives.regionRpoSeconds / 60 : report ? objectives.rpoMinutes : undefined;
  if (rpoMinutes !== undefined && rpoObjective !== undefined && rpoMinutes > rpoObjective) {
    problems.push(`regional RPO ${rpoMinutes} min > ${rpoObjective} min`);
    findings.add('region.rpo-exceeded', region, `losing ${region} loses up to ${rpoFigure({ etcdRestored, etcdMinutes, databaseMinutes, archiverMinutes, replicationLagMinutes, minutes: rpoMinutes, objectiveMinutes: rpoObjective })}, above the ${objectives.regionRpoSeconds !== undefined ? 'regional ' : ''}RPO of ${rpoObjective} min`, { scenarios: [SCENARIO], vars: { minutes: rpoObjective } });
  }
  if (rpoMinutes !== undefined && databaseMinutes != null && objectives.rpoMinutes !== undefined && databaseMinutes > objectives.rpoMinutes) {
    problems.push(`database RPO ${databaseMinutes} min > ${objectives.rpoMinutes} min`);
    findings.add('backup.database-rpo-exceeded', 'databases', `WAL archived every ${databaseMinutes} min (archive_timeout), above the RPO of ${objectives.rpoMinutes} min`, { scenarios: [SCENARIO], vars: { minutes: objectives.rpoMinutes } });
  }

  // Standby.
  if (!objectives.standbyCluster && !objectives.primaryCluster) {
    problems.push('no standby cluster');
    if (objectives.tolerateRegionLoss) findings.add('region.no-standby', region, 'the cluster must survive a region loss but has no standby cluster', { scenarios: [SCENARIO] });
  } else if (objectives.standbyCluster && objectives.standbyRegion && objectives.standbyRegion === region) {
    problems.push('standby in the same region');
    findings.add('region.standby-same-region', objectives.standbyCluster, `standby cluster ${objectives.standbyCluster} is in ${region} too`, { scenarios: [SCENARIO] });
  } else if (objectives.primaryCluster && !objectives.standbyCluster) {
    // A standby itself: losing its region is survived by the primary, not by another standby.
    problems.push(`standby of ${objectives.primaryCluster}: no standby of its own`);
  }

  // DNS failover.
  const dns = dnsOutcome(model, objectives, cluster);
  if (!dns) {
    if (paired) problems.push('no DNS failover record');
    add('region.no-dns-failover', 'DNS failover', `no Route 53 failover record (failover_routing_policy) for the app in ${cluster ? `${cluster}'s` : 'this'} Terraform: users keep resolving to ${region} after it is lost`);
  } else {
    if (dns.role !== dns.expectedRole) {
      problems.push(`DNS failover record is ${dns.role}, expected ${dns.expectedRole}`);
      add('region.dns-failover-role', dns.name, `failover record ${dns.record} is ${dns.role}; this cluster ${dns.expectedRole === 'SECONDARY' ? `is the standby of ${objectives.primaryCluster}` : 'is the primary'} and needs ${dns.expectedRole}`, { role: dns.expectedRole });
    }
    if (!dns.healthCheck) {
      problems.push('DNS failover record without a health check');
      const evaluated = model.infra.dnsFailoverRecords.find((r) => r.address === dns.record)?.evaluateTargetHealth;
      add('region.no-health-check', dns.name, `failover record ${dns.record} has no health_check_id${evaluated ? ' (only evaluate_target_health: the NLB\'s own health, detection time unknown)' : ': Route 53 treats it as always healthy and never fails over'}`);
    }
    if (dns.ttlSeconds !== undefined && dns.ttlSeconds > MAX_FAILOVER_TTL_SECONDS) {
      add('region.dns-ttl-high', dns.name, `TTL ${dns.ttlSeconds} s: resolvers keep answering the lost region that long after the failover`, { ttl: MAX_FAILOVER_TTL_SECONDS });
    }
    if (dns.standbyRecord === null) {
      problems.push('standby has no DNS failover record');
      add('region.no-secondary-record', objectives.standbyCluster ?? 'standby', `the standby's Terraform has no failover record for the app: Route 53 has nothing to fail over to`);
    } else if (dns.standbyRecord && dns.standbyRecord.role !== 'SECONDARY') {
      problems.push(`standby's DNS record is ${dns.standbyRecord.role}`);
      add('region.dns-failover-role', objectives.standbyCluster ?? 'standby', `the standby's failover record is ${dns.standbyRecord.role}; it needs SECONDARY`, { role: 'SECONDARY' });
    }
  }

  // Promotion path (the standby's), its estimate derived from both clusters' configuration.
  const scaleUp = promotionScaleUp(model);
  for (const g of scaleUp?.short ?? []) {
    problems.push(`${g.asg} cannot reach ${g.target} nodes`);
    add('region.standby-capacity-short', g.asg, `the promotion sizes ${g.asg} to ${g.target} node(s) (the primary's minimum for its pool) but its max_size is ${g.maxSize}: the promotion stops there`, { target: g.target });
  }
  // The standby's own check turns healthy only after `failure_threshold` passes once the promotion points it at the app.
  const standbyCheck = model.standby ? appRecord(model.standby, objectives.standbyCluster)?.healthCheck : undefined;
  // The promotion goes on without waiting for the new workers only when the standing ones run the primary's footprint.
  const standing = scaleUp && scaleUp.nodesToLaunch > 0 ? standingCapacity(model) : undefined;
  if (standing && standing.pending.length > 0) {
    problems.push('scale-up on the critical path');
    add('region.standby-standing-capacity', objectives.standbyCluster ?? cluster ?? 'standby', `the pilot light's ${standing.workers} standing worker(s) leave ${standing.pending.map((p) => `${p.workload} ×${p.pods} (${p.reason})`).join(', ')} pending: the promotion waits for ${scaleUp!.nodesToLaunch} new worker(s), and the scale-up is back on the regional RTO's critical path`);
  }
  const promotion = derivePromotion(objectives.promotion, model, {
    ...(scaleUp ? { scaleUp } : {}),
    ...(standing ? { standing } : {}),
    ...(standbyCheck ? { standbyCheck: { intervalSeconds: standbyCheck.requestIntervalSeconds, failureThreshold: standbyCheck.failureThreshold } } : {}),
    ...(objectives.failoverDecision ? { decision: objectives.failoverDecision } : {}),
  }, { ...DATABASE_RECOVERY_DEFAULTS, walBytesPerSecond: objectives.databaseWalBytesPerSecond ?? DATABASE_RECOVERY_DEFAULTS.walBytesPerSecond });
  if (paired && !promotion) {
    problems.push('no promotion path');
    add('region.no-promotion-path', objectives.standbyCluster ?? cluster ?? 'standby', 'no scripted promotion of the standby found (region-failover workflow and `npm run failover`): scaling it up and restoring data is left to improvisation');
  }

  // Regional RTO.
  const detectionSeconds = dns?.detectionSeconds;
  const dnsTtlSeconds = dns?.ttlSeconds;
  const promotionSeconds = promotion?.estimatedSeconds;
  const complete = objectives.standbyCluster !== undefined && detectionSeconds !== undefined && dnsTtlSeconds !== undefined && promotionSeconds !== undefined && dns?.role === 'PRIMARY';
  const rtoSeconds = complete ? detectionSeconds + promotionSeconds + dnsTtlSeconds : null;
  if (rtoSeconds !== null && objectives.regionRtoSeconds !== undefined && rtoSeconds > objectives.regionRtoSeconds) {
    problems.push(`regional RTO ≈ ${rtoSeconds} s > ${objectives.regionRtoSeconds} s`);
    const phases = promotion?.phases ? ` = ${Object.entries(promotion.phases).map(([k, v]) => `${k} ${v}`).join(' + ')}` : '';
    add('region.rto-exceeded', region, `regional recovery ≈ ${rtoSeconds} s (DNS detection ${detectionSeconds} s + promotion ${promotionSeconds} s${phases} + TTL ${dnsTtlSeconds} s), above the regional RTO of ${objectives.regionRtoSeconds} s`);
  } else if (rtoSeconds !== null && objectives.regionRtoSeconds === undefined && objectives.tolerateRegionLoss) {
    add('region.rto-undeclared', region, `regional recovery ≈ ${rtoSeconds} s is not checked: no regional RTO objective (appRtoSeconds is per AZ)`);
  }

  return {
    id: SCENARIO,
    kind: 'region-loss',
    lost: region,
    survives: problems.length === 0,
    problems,
    standbyCluster: objectives.standbyCluster,
    standbyRegion: objectives.standbyRegion,
    primaryCluster: objectives.primaryCluster,
    backupReplicas: replicas.map(({ source, destination, region: to }) => ({ source, destination, region: to })),
    snapshotIntervalMinutes: interval,
    snapshotIntervalSource: source,
    rpoMinutes,
    rpo: { etcdRestored, etcdMinutes, databaseMinutes, ...(archiverMinutes !== undefined ? { archiverMinutes } : {}), replicationLagMinutes, minutes: rpoMinutes, objectiveMinutes: rpoObjective },
    dnsFailover: dns,
    databaseArchives,
    promotion,
    rto: { detectionSeconds, promotionSeconds, dnsTtlSeconds, seconds: rtoSeconds, objectiveSeconds: objectives.regionRtoSeconds },
  };
}
