import { AMI_LOCK, APP_CATALOG, platformInput, REGION_AVAILABILITY_ZONES, type PlatformInput, type ClusterDefinitionInput } from '@platform/platform-config';

/**
 * A platform of `count` clusters shaped like production, spread over the supported regions,
 * each with its own /16: the synthetic workload for the benchmark.
 */
export function generatedPlatform(count: number): PlatformInput {
  const template = platformInput.clusters.find((c) => c.name === 'production') as ClusterDefinitionInput;
  const regions = Object.keys(REGION_AVAILABILITY_ZONES).sort();
  const clusters = Array.from({ length: count }, (_, i): ClusterDefinitionInput => {
    const region = regions[i % regions.length];
    const { failover: _failover, ...rest } = structuredClone(template);
    return {
      ...rest,
      name: `bench-${String(i + 1).padStart(3, '0')}`,
      region,
      availabilityZones: REGION_AVAILABILITY_ZONES[region].slice(0, 3),
      vpcCidr: `10.${i + 1}.0.0/16`,
      backups: { ...rest.backups, replicaRegion: undefined },
      // No standby: generated clusters cannot claim a regional objective.
      objectives: { ...rest.objectives, tolerateRegionLoss: false, regionRtoSeconds: undefined },
    };
  });
  // The example platform's lock names two regions; every generated region gets the same
  // (placeholder, example-only) images so the lock's validation still runs on all of them.
  const lockedTemplate = Object.values(AMI_LOCK)[0]!;
  const amiLock = Object.fromEntries(regions.map((region) => [region, AMI_LOCK[region] ?? lockedTemplate]));
  // The catalog's apps run on every generated cluster (all production-shaped) with production's digests.
  const names = clusters.map((c) => c.name);
  const apps = Object.fromEntries(
    Object.entries((APP_CATALOG as { apps: Record<string, { digests: Record<string, string> }> }).apps).map(([name, app]) => [name, { ...app, clusters: names, digests: { production: app.digests.production } }]),
  );
  return { settings: platformInput.settings, clusters, amiLock, appCatalog: { ...(APP_CATALOG as object), apps } };
}
