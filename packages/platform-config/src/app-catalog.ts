import { z } from 'zod';
import committed from './app-catalog.json';
import type { ClusterDefinition } from './cluster-definition';
import type { ConfigIssue } from './config-error';
import { failoverRole } from './failover';
import { instanceTypeAllocatable, type NodeResources } from './node-allocatable';
import { schemaIssues } from './schema-issues';

/*
 * The applications the clusters run, as data: the image of each by digest per environment,
 * its replicas, HPA bounds and resources, and the clusters that run it. The release flow
 * (`pipeline release`, `pipeline promote-release`) rewrites this file and nothing else, so a
 * new version is a reviewed diff of digests; the add-ons render from it.
 */

export const APP_CATALOG_FILE = 'packages/platform-config/src/app-catalog.json';

/** An OCI content digest as registries report it: the image, not a movable tag. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Environments a digest is kept for (ClusterDefinition.environment). */
export type AppEnvironment = ClusterDefinition['environment'];
export const APP_ENVIRONMENTS: readonly AppEnvironment[] = ['staging', 'production', 'disaster-recovery'];

const APP_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
/** host[:port]/path, lower case, no tag and no digest (those are per environment). */
const REPOSITORY = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;
/** What Docker and OCI accept as a tag. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const whole = (what: string) => z.number({ error: `expected a whole number of ${what}` }).int({ error: `expected a whole number of ${what}` });

const releaseSchema = z.strictObject({
  digest: z.string({ error: 'expected the digest that was released (sha256:…)' }),
  /** The tag the application repository built it as, for people; never rendered. */
  tag: z.string().optional(),
  /** Never to run again (a vulnerability, a broken build): pipeline promote-release refuses it, rollbacks included. @default false */
  revoked: z.boolean({ error: 'expected true or false (true: promote-release refuses this digest)' }).optional(),
});

/** How the release flow's registry check authenticates to an app's repository (pipeline io/registry-auth.ts). */
export const REGISTRY_AUTH_MODES = ['anonymous', 'ecr', 'github-token'] as const;
export type RegistryAuthMode = (typeof REGISTRY_AUTH_MODES)[number];

/** A private ECR registry host: `<account>.dkr.ecr.<region>.amazonaws.com` (ECR Public is public.ecr.aws). */
const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The region of a repository on a private ECR host, or undefined when it is not on one. */
export function ecrRegionOfRepository(repository: string): string | undefined {
  return ECR_HOST.exec(repository.split('/')[0] ?? '')?.[2];
}

const appSchema = z.strictObject({
  /** Registry host and path, no tag or digest, e.g. registry.k8s.io/e2e-test-images/agnhost. */
  repository: z.string({ error: 'expected an image repository such as registry.k8s.io/e2e-test-images/agnhost' }),
  /**
   * How the registry check pulls: `anonymous` (public images), `ecr` (private ECR, the workflow's
   * AWS role: Basic AWS:<aws ecr get-login-password>), `github-token` (ghcr.io, the job's GITHUB_TOKEN
   * exchanged for a pull token). @default anonymous
   */
  registryAuth: z.enum(REGISTRY_AUTH_MODES, { error: `expected one of ${REGISTRY_AUTH_MODES.join(', ')}` }).default('anonymous'),
  /** The digest each environment runs; a failover standby runs its primary's (no entry of its own). */
  digests: z.record(z.string(), z.string({ error: 'expected a digest: sha256: and 64 lowercase hexadecimal digits' })),
  /** Every digest released to staging, oldest first: what a rollback may promote. @default [] */
  history: z.array(releaseSchema).default([]),
  /** Names of the clusters that run it. */
  clusters: z.array(z.string()).min(1, { error: 'expected at least one cluster name' }),
  scaling: z.strictObject({
    /** HPA minimum; at least one replica per Availability Zone (the HA workload pattern). @default the AZ count of each cluster that runs it */
    minReplicas: whole('replicas').optional(),
    maxReplicas: whole('replicas'),
    /** HPA target CPU utilisation, percent. @default 70 */
    targetCpuPercent: whole('percent').min(10, { error: 'expected 10 to 95' }).max(95, { error: 'expected 10 to 95' }).default(70),
  }),
  resources: z.strictObject({
    requests: z.strictObject({ cpuMillis: whole('millicores').positive({ error: 'expected more than 0 millicores' }), memoryMiB: whole('MiB').positive({ error: 'expected more than 0 MiB' }) }),
    /** @default no CPU limit (throttling hurts latency more than a noisy neighbour), memory twice the request */
    limits: z.strictObject({ cpuMillis: whole('millicores').optional(), memoryMiB: whole('MiB').optional() }).default({}),
  }),
  release: z
    .strictObject({
      /** Whether the staging release pull request merges itself once every required check passes. @default false */
      autoMergeStaging: z.boolean({ error: 'expected true or false' }).default(false),
    })
    .default({ autoMergeStaging: false }),
  /** Keyless cosign signatures the release flow verifies before it opens a pull request. @default none required */
  signature: z
    .strictObject({
      certificateIdentity: z.string().min(1, { error: 'expected the signing identity (e.g. the workflow URL of the application repository)' }),
      certificateOidcIssuer: z.string().regex(/^https:\/\/[^\s/]+/, { error: 'expected the OIDC issuer URL, e.g. https://token.actions.githubusercontent.com' }),
    })
    .optional(),
});

export const appCatalogSchema = z.strictObject({ apps: z.record(z.string().regex(APP_NAME, { error: 'expected an app name: a DNS label' }), appSchema) });

export type AppCatalog = z.infer<typeof appCatalogSchema>;
export type CatalogApp = AppCatalog['apps'][string];
export type AppRelease = CatalogApp['history'][number];

/** The committed catalog, unchecked: loadPlatform validates it against the clusters. */
export const APP_CATALOG: unknown = committed;

/** What one cluster runs of an app: the catalog entry resolved for that cluster. */
export interface DeployedApp {
  readonly name: string;
  /** `repository@digest`: what the Deployment's container names. */
  readonly image: string;
  readonly repository: string;
  readonly digest: string;
  /** The environment whose digest it runs (a standby's primary's). */
  readonly digestEnvironment: AppEnvironment;
  readonly scaling: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuPercent: number };
  readonly resources: { readonly requests: NodeResources; readonly limits: { readonly cpuMilli?: number; readonly memoryMiB: number } };
}

/**
 * The environment whose digest `cluster` runs: a failover standby its primary's, any other
 * disaster-recovery cluster production's (it exists to run what production runs), everyone
 * else its own. So the standby follows every promotion to production, never a release of its own.
 */
export function digestEnvironmentOf(clusters: readonly ClusterDefinition[], cluster: ClusterDefinition): AppEnvironment {
  const pair = failoverRole(clusters, cluster);
  if (pair?.role === 'standby') return pair.primary.environment;
  return cluster.environment === 'disaster-recovery' ? 'production' : cluster.environment;
}

/** Why `cluster` runs another environment's digest, for messages; empty when it runs its own. */
function followsWhy(clusters: readonly ClusterDefinition[], cluster: ClusterDefinition): string {
  const env = digestEnvironmentOf(clusters, cluster);
  if (env === cluster.environment) return '';
  return failoverRole(clusters, cluster)?.role === 'standby' ? `${cluster.name} is the standby of ${env} and runs its digest` : `${cluster.name} is a disaster-recovery cluster and runs ${env}'s digest`;
}

/** The app as `cluster` runs it, or undefined when the cluster does not run it. */
export function deployedApp(catalog: AppCatalog, clusters: readonly ClusterDefinition[], cluster: ClusterDefinition, name: string): DeployedApp | undefined {
  const app = catalog.apps[name];
  if (!app?.clusters.includes(cluster.name)) return undefined;
  const digestEnvironment = digestEnvironmentOf(clusters, cluster);
  const digest = app.digests[digestEnvironment];
  if (!digest) throw new Error(`appCatalog.apps.${name}.digests.${digestEnvironment}: got nothing; expected a digest (loadPlatform checks this)`);
  const { requests, limits } = app.resources;
  return {
    name,
    image: `${app.repository}@${digest}`,
    repository: app.repository,
    digest,
    digestEnvironment,
    scaling: { ...app.scaling, minReplicas: app.scaling.minReplicas ?? cluster.availabilityZones.length },
    resources: {
      requests: { cpuMilli: requests.cpuMillis, memoryMiB: requests.memoryMiB },
      limits: { ...(limits.cpuMillis === undefined ? {} : { cpuMilli: limits.cpuMillis }), memoryMiB: limits.memoryMiB ?? 2 * requests.memoryMiB },
    },
  };
}

/** Why `value` is not a digest, or undefined when it is one. */
export function digestProblem(value: string): string | undefined {
  const expected = 'sha256: and 64 lowercase hexadecimal digits';
  if (DIGEST_PATTERN.test(value)) return undefined;
  if (value.includes('@')) return `expected the digest alone (${expected}), not an image reference`;
  if (value.startsWith('sha256:')) return `expected ${expected} (it has ${value.length - 'sha256:'.length} characters after sha256:${/[^0-9a-f]/.test(value.slice(7)) ? ', not all lowercase hexadecimal' : ''})`;
  if (TAG.test(value)) return `expected a digest (${expected}), not the tag ${JSON.stringify(value)}: a tag can be moved to another image, a digest names exactly one`;
  return `expected a digest: ${expected}`;
}

/** Largest requests a pod without tolerations can make on any worker of `cluster`, with the instance type that allows it. */
function largestAllocatable(cluster: ClusterDefinition): { cpu: { value: number; type: string }; memory: { value: number; type: string }; pools: string[] } {
  // A catalogued app tolerates no taint: a pool that repels pods (NoSchedule, NoExecute) never takes it.
  const pools = cluster.workerPools.filter((p) => !p.taints.some((t) => t.effect !== 'PreferNoSchedule'));
  let cpu = { value: 0, type: '' };
  let memory = { value: 0, type: '' };
  for (const type of pools.flatMap((p) => p.instanceTypes)) {
    const a = instanceTypeAllocatable(type);
    if (a && a.cpuMilli > cpu.value) cpu = { value: a.cpuMilli, type };
    if (a && a.memoryMiB > memory.value) memory = { value: a.memoryMiB, type };
  }
  return { cpu, memory, pools: pools.map((p) => p.name) };
}

/** Every problem of `raw` (the catalog) for these clusters, as `appCatalog.…` issues. */
export function appCatalogIssues(raw: unknown, clusters: readonly ClusterDefinition[]): ConfigIssue[] {
  const parsed = appCatalogSchema.safeParse(raw);
  if (!parsed.success) return schemaIssues(parsed.error, raw, 'appCatalog', 'AppCatalog');
  const issues: ConfigIssue[] = [];
  const report = (path: string, value: unknown, expected: string) => issues.push({ path: `appCatalog.apps.${path}`, value, expected });
  const byName = new Map(clusters.map((c) => [c.name, c]));
  for (const [name, app] of Object.entries(parsed.data.apps)) {
    if (!REPOSITORY.test(app.repository)) {
      report(`${name}.repository`, app.repository, 'expected a lower-case image repository with its registry host and no tag or digest, such as registry.k8s.io/e2e-test-images/agnhost (the digest is per environment)');
    }
    // A private ECR host answers an anonymous pull with a Basic challenge: no release could ever pass the registry check.
    const ecrRegion = ecrRegionOfRepository(app.repository);
    if (ecrRegion && app.registryAuth !== 'ecr') {
      report(`${name}.registryAuth`, app.registryAuth, `expected "ecr" for ${app.repository}: a private ECR registry (${ecrRegion}) refuses anonymous pulls; the release workflow's AWS role signs in with aws ecr get-login-password`);
    } else if (!ecrRegion && app.registryAuth === 'ecr') {
      report(`${name}.registryAuth`, app.registryAuth, `expected "anonymous" or "github-token" for ${app.repository}: "ecr" signs in to a private ECR host (<account>.dkr.ecr.<region>.amazonaws.com) only`);
    } else if (app.registryAuth === 'github-token' && app.repository.split('/')[0] !== 'ghcr.io') {
      report(`${name}.registryAuth`, app.registryAuth, `expected "github-token" for ghcr.io repositories only (${app.repository} is not one): the job's GITHUB_TOKEN signs in to ghcr.io alone`);
    }
    const running: ClusterDefinition[] = [];
    app.clusters.forEach((clusterName, i) => {
      const cluster = byName.get(clusterName);
      if (!cluster) report(`${name}.clusters[${i}]`, clusterName, `expected the name of a cluster: ${[...byName.keys()].join(', ')}`);
      else if (running.includes(cluster)) report(`${name}.clusters[${i}]`, clusterName, 'expected each cluster once');
      else running.push(cluster);
    });

    // Digests: one for each environment a running cluster takes its image from, and no other.
    const needed = new Map<AppEnvironment, ClusterDefinition[]>();
    for (const cluster of running) {
      const env = digestEnvironmentOf(clusters, cluster);
      needed.set(env, [...(needed.get(env) ?? []), cluster]);
    }
    const released = new Set(app.history.map((r) => r.digest));
    for (const [env, value] of Object.entries(app.digests)) {
      const at = `${name}.digests.${env}`;
      if (!(APP_ENVIRONMENTS as readonly string[]).includes(env)) {
        report(at, value, `expected digests of environments only: ${APP_ENVIRONMENTS.join(', ')}`);
        continue;
      }
      const problem = digestProblem(value);
      if (problem) report(at, value, problem);
      else if (!needed.has(env as AppEnvironment)) {
        const followers = running.filter((c) => c.environment === env);
        report(
          at,
          value,
          followers.length > 0
            ? `expected no digest of its own: ${followers.map((c) => followsWhy(clusters, c)).join('; ')}`
            : `expected no digest: no cluster running ${name} is a ${env} cluster (${name}.clusters lists ${app.clusters.join(', ')})`,
        );
      } else if (!released.has(value)) report(at, value, `expected a digest recorded in ${name}.history (pipeline release records each one, and a rollback promotes one of them)`);
    }
    for (const [env, users] of needed) {
      if (app.digests[env] !== undefined) continue;
      const via = users.map((c) => followsWhy(clusters, c)).filter(Boolean).map((why) => ` (${why})`).join('');
      report(`${name}.digests.${env}`, undefined, `expected a digest for ${env}, where ${users.map((c) => c.name).join(', ')} ${users.length === 1 ? 'runs' : 'run'} ${name}${via}`);
    }
    app.history.forEach((r, i) => {
      const problem = digestProblem(r.digest);
      if (problem) report(`${name}.history[${i}].digest`, r.digest, problem);
    });

    // Replicas: the HA workload pattern's floor (one per zone), then the HPA's own order.
    const { minReplicas, maxReplicas } = app.scaling;
    const widest = [...running].sort((a, b) => b.availabilityZones.length - a.availabilityZones.length)[0];
    const zones = widest?.availabilityZones.length ?? 0;
    if (widest && minReplicas !== undefined && minReplicas < zones) {
      report(
        `${name}.scaling.minReplicas`,
        minReplicas,
        `expected at least ${zones}, one replica per Availability Zone of ${widest.name} (${widest.availabilityZones.join(', ')}): the HA workload pattern spreads one per zone so losing a zone never takes every replica`,
      );
    } else if (minReplicas !== undefined && minReplicas > maxReplicas) report(`${name}.scaling.minReplicas`, minReplicas, `expected at most maxReplicas (${maxReplicas})`);
    else if (widest && minReplicas === undefined && zones > maxReplicas) {
      report(`${name}.scaling.maxReplicas`, maxReplicas, `expected at least ${zones}: minReplicas defaults to one per Availability Zone, and ${widest.name} spans ${zones}`);
    }

    // Resources: a pod that fits no worker node stays Pending forever.
    const { requests, limits } = app.resources;
    for (const cluster of running) {
      const largest = largestAllocatable(cluster);
      const where = `of ${cluster.name}'s worker pools a pod without tolerations runs on (${largest.pools.join(', ') || 'none'})`;
      if (requests.cpuMillis > largest.cpu.value) {
        report(`${name}.resources.requests.cpuMillis`, requests.cpuMillis, `expected at most ${largest.cpu.value}, the allocatable millicores of ${largest.cpu.type || 'no instance type'}, the largest instance type ${where}`);
      }
      if (requests.memoryMiB > largest.memory.value) {
        report(`${name}.resources.requests.memoryMiB`, requests.memoryMiB, `expected at most ${largest.memory.value}, the allocatable MiB of ${largest.memory.type || 'no instance type'}, the largest instance type ${where}`);
      }
    }
    if (limits.cpuMillis !== undefined && limits.cpuMillis < requests.cpuMillis) report(`${name}.resources.limits.cpuMillis`, limits.cpuMillis, `expected at least requests.cpuMillis (${requests.cpuMillis})`);
    if (limits.memoryMiB !== undefined && limits.memoryMiB < requests.memoryMiB) report(`${name}.resources.limits.memoryMiB`, limits.memoryMiB, `expected at least requests.memoryMiB (${requests.memoryMiB})`);
  }
  return issues;
}

/** The parsed catalog (defaults filled in); call after appCatalogIssues found nothing. */
export function parseAppCatalog(raw: unknown): AppCatalog {
  return appCatalogSchema.parse(raw);
}

/** The file's text: apps, environments and clusters sorted, fields in a fixed order, so a rewrite is deterministic. */
export function renderAppCatalog(catalog: AppCatalog): string {
  const sortedKeys = <T>(record: Readonly<Record<string, T>>) => Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
  const apps = Object.fromEntries(
    Object.keys(catalog.apps)
      .sort()
      .map((name) => {
        const a = catalog.apps[name]!;
        return [
          name,
          {
            repository: a.repository,
            ...(a.registryAuth === 'anonymous' ? {} : { registryAuth: a.registryAuth }),
            digests: sortedKeys(a.digests),
            history: a.history.map((r) => ({ digest: r.digest, ...(r.tag === undefined ? {} : { tag: r.tag }), ...(r.revoked ? { revoked: true } : {}) })),
            clusters: [...a.clusters].sort(),
            scaling: { ...(a.scaling.minReplicas === undefined ? {} : { minReplicas: a.scaling.minReplicas }), maxReplicas: a.scaling.maxReplicas, targetCpuPercent: a.scaling.targetCpuPercent },
            resources: {
              requests: { cpuMillis: a.resources.requests.cpuMillis, memoryMiB: a.resources.requests.memoryMiB },
              limits: { ...(a.resources.limits.cpuMillis === undefined ? {} : { cpuMillis: a.resources.limits.cpuMillis }), ...(a.resources.limits.memoryMiB === undefined ? {} : { memoryMiB: a.resources.limits.memoryMiB }) },
            },
            release: { autoMergeStaging: a.release.autoMergeStaging },
            ...(a.signature ? { signature: { certificateIdentity: a.signature.certificateIdentity, certificateOidcIssuer: a.signature.certificateOidcIssuer } } : {}),
          },
        ];
      }),
  );
  return `${JSON.stringify({ apps }, null, 2)}\n`;
}
