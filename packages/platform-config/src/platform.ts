import type { z } from 'zod';
import {
  clusterDefinitionSchema,
  platformSettingsSchema,
  type ClusterDefinition,
  type ClusterDefinitionInput,
  type PlatformSettings,
  type PlatformSettingsInput,
} from './cluster-definition';
import { AMI_LOCK, amiLockIssues, lockedImage, type AmiLock, type Architecture, type LockedImage } from './ami-lock';
import { PlatformConfigError, type ConfigIssue } from './config-error';
import { failoverRole, type FailoverRole } from './failover';
import { clusterNames, platformNames, type ClusterNames, type PlatformNames } from './names';
import { clusterIssues, platformIssues } from './validate';

export interface PlatformInput {
  readonly settings: PlatformSettingsInput;
  readonly clusters: readonly ClusterDefinitionInput[];
  /** The pinned node images by region and architecture. @default the committed ami-lock.json */
  readonly amiLock?: unknown;
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
  /** The cluster called `name`; throws with the known names otherwise. */
  cluster(name: string): ClusterDefinition;
  namesOf(cluster: ClusterDefinition | string): ClusterNames;
  /** The cluster's part in regional failover (primary or standby), if any. */
  failoverRoleOf(cluster: ClusterDefinition | string): FailoverRole | undefined;
}

function pathText(base: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`), base);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), root);
}

function schemaIssues(error: z.ZodError, raw: unknown, base: string): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: pathText(base, [...issue.path, key]),
        value: valueAt(raw, [...issue.path, key]),
        expected: 'expected no such field (check its spelling against the ClusterDefinition type)',
      }));
    }
    if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
      return [{ path: pathText(base, issue.path), value: valueAt(raw, issue.path), expected: `expected a value of type ${issue.expected}` }];
    }
    const expected = issue.message.replace(/^Invalid input: /, '');
    return [{ path: pathText(base, issue.path), value: valueAt(raw, issue.path), expected: expected.startsWith('expected') ? expected : `expected ${expected}` }];
  });
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
  if (issues.length > 0) throw new PlatformConfigError(issues);

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
    cluster,
    namesOf: (c) => clusterNames(typeof c === 'string' ? cluster(c) : c, settings),
    failoverRoleOf: (c) => failoverRole(clusters, typeof c === 'string' ? cluster(c) : c),
  };
}
