import {
  clusterDefinitionSchema,
  platformSettingsSchema,
  type ClusterDefinition,
  type ClusterDefinitionInput,
  type PlatformSettings,
  type PlatformSettingsInput,
} from './cluster-definition';
import { APP_CATALOG, appCatalogIssues, deployedApp, parseAppCatalog, type AppCatalog, type DeployedApp } from './app-catalog';
import { AMI_LOCK, amiLockIssues, lockedImage, type AmiLock, type Architecture, type LockedImage } from './ami-lock';
import { PlatformConfigError, type ConfigIssue } from './config-error';
import { failoverRole, type FailoverRole } from './failover';
import { clusterNames, platformNames, type ClusterNames, type PlatformNames } from './names';
import { schemaIssues } from './schema-issues';
import { clusterIssues, platformIssues } from './validate';

export interface PlatformInput {
  readonly settings: PlatformSettingsInput;
  readonly clusters: readonly ClusterDefinitionInput[];
  /** The pinned node images by region and architecture. @default the committed ami-lock.json */
  readonly amiLock?: unknown;
  /** The applications, their digests per environment, scaling and resources. @default the committed app-catalog.json */
  readonly appCatalog?: unknown;
}

/** A validated platform: settings, complete cluster definitions and their derived names. */
export interface Platform {
  readonly settings: PlatformSettings;
  readonly clusters: readonly ClusterDefinition[];
  readonly names: PlatformNames;
  /** The pinned node images (ami-lock.json), checked to cover every cluster's region and architectures. */
  readonly amiLock: AmiLock;
  /** The locked image a node of `cluster` with this CPU architecture boots. */
  imageOf(cluster: ClusterDefinition | string, architecture: Architecture): LockedImage;
  /** The application catalog (app-catalog.json), checked against the clusters. */
  readonly appCatalog: AppCatalog;
  /** The app as `cluster` runs it (image by digest, scaling, resources); undefined when the cluster does not run it. */
  appOf(cluster: ClusterDefinition | string, app: string): DeployedApp | undefined;
  /** The cluster called `name`; throws with the known names otherwise. */
  cluster(name: string): ClusterDefinition;
  namesOf(cluster: ClusterDefinition | string): ClusterNames;
  /** The cluster's part in regional failover (primary or standby), if any. */
  failoverRoleOf(cluster: ClusterDefinition | string): FailoverRole | undefined;
}

/**
 * Validates the whole platform and returns it, or throws one PlatformConfigError listing
 * every problem. Nothing should be synthesized before this returns.
 */
export function loadPlatform(input: PlatformInput): Platform {
  const issues: ConfigIssue[] = [];
  const settingsResult = platformSettingsSchema.safeParse(input.settings);
  if (!settingsResult.success) issues.push(...schemaIssues(settingsResult.error, input.settings, 'settings'));

  const clusters: ClusterDefinition[] = [];
  input.clusters.forEach((raw, i) => {
    const result = clusterDefinitionSchema.safeParse(raw);
    if (result.success) clusters.push(result.data);
    else issues.push(...schemaIssues(result.error, raw, `clusters[${i}]`));
  });
  // Cross-field rules only make sense once every shape is right.
  if (issues.length > 0) throw new PlatformConfigError(issues);

  const settings = settingsResult.data as PlatformSettings;
  clusters.forEach((cluster, i) => issues.push(...clusterIssues(cluster, settings, `clusters[${i}]`)));
  issues.push(...platformIssues(clusters, settings));
  const amiLock = input.amiLock ?? AMI_LOCK;
  issues.push(...amiLockIssues(amiLock, clusters, settings));
  const rawCatalog = input.appCatalog ?? APP_CATALOG;
  issues.push(...appCatalogIssues(rawCatalog, clusters));
  if (issues.length > 0) throw new PlatformConfigError(issues);
  const appCatalog = parseAppCatalog(rawCatalog);

  const byName = new Map(clusters.map((c) => [c.name, c]));
  const cluster = (name: string): ClusterDefinition => {
    const found = byName.get(name);
    if (!found) throw new Error(`unknown cluster ${JSON.stringify(name)}; expected one of ${[...byName.keys()].join(', ')}`);
    return found;
  };
  return {
    settings,
    clusters,
    names: platformNames(settings),
    amiLock: amiLock as AmiLock,
    imageOf: (c, architecture) => lockedImage(amiLock as AmiLock, (typeof c === 'string' ? cluster(c) : c).region, architecture),
    appCatalog,
    appOf: (c, app) => deployedApp(appCatalog, clusters, typeof c === 'string' ? cluster(c) : c, app),
    cluster,
    namesOf: (c) => clusterNames(typeof c === 'string' ? cluster(c) : c, settings),
    failoverRoleOf: (c) => failoverRole(clusters, typeof c === 'string' ? cluster(c) : c),
  };
}
