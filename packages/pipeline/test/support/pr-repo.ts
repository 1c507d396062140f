import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform } from '@platform/platform-config';
import { CLUSTER_DEFINITIONS_DIR } from '../../src/pull-request/affected-stacks';
import { pipelinePaths } from '../../src/io/paths';
import { git, tempRepo, writeFiles } from './git';

/**
 * A small repository with the layout the pull-request flow reads, and a pull request on it:
 *
 * - base commit: a cluster definition file and Flux manifests for two clusters;
 * - head commit: the definition file edited, and under clusters/ one object added, one
 *   changed and one removed for the cluster (plus a change in another cluster);
 * - the synthesized output of head (gitignored, as in the real repo): a trimmed version of
 *   the cluster's stack with a local backend, and beside it the state that base applied,
 *   which still holds the etcd backup bucket head no longer declares. A real plan of it
 *   destroys that protected bucket, replaces the KMS alias, updates the KMS key and
 *   creates the app backup bucket with its versioning.
 *
 * Every name comes from platform-config.
 */
export interface PullRequestRepo {
  readonly repo: string;
  readonly base: string;
  readonly head: string;
  readonly stack: string;
  readonly stackDir: string;
}

export const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

function configMap(namespace: string, name: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`);
  return ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', `  name: ${name}`, `  namespace: ${namespace}`, 'data:', ...lines, ''].join('\n');
}

const deployment = (namespace: string, name: string) =>
  ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', `  name: ${name}`, `  namespace: ${namespace}`, 'spec:', '  replicas: 2', ''].join('\n');

const service = (namespace: string, name: string) =>
  ['apiVersion: v1', 'kind: Service', 'metadata:', `  name: ${name}`, `  namespace: ${namespace}`, 'spec:', '  ports:', '    - port: 80', ''].join('\n');

/** The stack as head synthesizes it: the etcd backup bucket is gone, app backups are new. */
function headStack(platform: Platform, cluster: string): Record<string, unknown> {
  const names = platform.namesOf(cluster);
  const region = platform.cluster(cluster).region;
  return {
    provider: { aws: [{ region, default_tags: [{ tags: { Cluster: cluster, Stack: names.stack } }] }] },
    terraform: { backend: { local: { path: 'terraform.tfstate' } }, required_providers: { aws: { source: 'aws', version: '5.100.0' } } },
    resource: {
      aws_kms_key: {
        kms_key: { description: `${cluster} cluster: join material, etcd snapshots and app backups`, deletion_window_in_days: 30, enable_key_rotation: true, lifecycle: { prevent_destroy: true } },
      },
      aws_kms_alias: { kms_alias: { name: names.kmsAlias, target_key_id: '${aws_kms_key.kms_key.key_id}' } },
      aws_s3_bucket: { app_backups: { bucket: names.appBackupBucket, lifecycle: { prevent_destroy: true } } },
      aws_s3_bucket_versioning: { app_backups: { bucket: '${aws_s3_bucket.app_backups.id}', versioning_configuration: { status: 'Enabled' } } },
    },
  };
}

/** Terraform state (format 4) as base left it. */
function baseState(platform: Platform, cluster: string): Record<string, unknown> {
  const names = platform.namesOf(cluster);
  const region = platform.cluster(cluster).region;
  const provider = 'provider["registry.terraform.io/hashicorp/aws"]';
  const tags = { tags: {}, tags_all: { Cluster: cluster, Stack: names.stack } };
  const keyArn = `arn:aws:kms:${region}:${ACCOUNT}:key/${KEY_ID}`;
  const oldAlias = `${names.kmsAlias}-v1`;
  const resource = (type: string, name: string, attributes: Record<string, unknown>, dependencies?: string[]) => ({
    mode: 'managed',
    type,
    name,
    provider,
    instances: [{ schema_version: 0, attributes, ...(dependencies ? { dependencies } : {}) }],
  });
  return {
    version: 4,
    terraform_version: '1.11.4',
    serial: 7,
    lineage: '3f1c0c5e-0000-4000-8000-000000000001',
    outputs: {},
    resources: [
      resource('aws_kms_key', 'kms_key', {
        id: KEY_ID,
        key_id: KEY_ID,
        arn: keyArn,
        description: `${cluster} cluster: join material and etcd snapshots`,
        deletion_window_in_days: 30,
        enable_key_rotation: true,
        is_enabled: true,
        key_usage: 'ENCRYPT_DECRYPT',
        customer_master_key_spec: 'SYMMETRIC_DEFAULT',
        multi_region: false,
        rotation_period_in_days: 365,
        bypass_policy_lockout_safety_check: false,
        ...tags,
      }),
      resource(
        'aws_kms_alias',
        'kms_alias',
        { id: oldAlias, name: oldAlias, arn: `arn:aws:kms:${region}:${ACCOUNT}:${oldAlias}`, target_key_id: KEY_ID, target_key_arn: keyArn },
        ['aws_kms_key.kms_key'],
      ),
      resource('aws_s3_bucket', 'etcd_backups', { id: names.etcdBackupBucket, bucket: names.etcdBackupBucket, arn: `arn:aws:s3:::${names.etcdBackupBucket}`, force_destroy: false, ...tags }),
    ],
  };
}

export function buildPullRequestRepo(platform: Platform, cluster: string, other: string): PullRequestRepo {
  const names = platform.namesOf(cluster);
  const otherPath = platform.namesOf(other).gitopsPath;
  const definition = `${CLUSTER_DEFINITIONS_DIR}${cluster}.ts`;
  const repo = tempRepo(
    {
      '.gitignore': 'apps/infra/cdktf.out/\ndist/\n',
      'apps/infra/package.json': `${JSON.stringify({ name: '@platform/infra', private: true, dependencies: {} })}\n`,
      [definition]: `export const ${cluster} = { workers: 3 };\n`,
      [`${names.gitopsPath}/apps/web.yaml`]: `${configMap('apps', 'web-config', { LOG_LEVEL: 'info' })}---\n${deployment('apps', 'legacy-worker')}`,
      [`${otherPath}/apps/web.yaml`]: configMap('apps', 'web-config', { LOG_LEVEL: 'info' }),
    },
    'pipeline-pr-flow-',
  );
  const base = git(repo, 'rev-parse', 'HEAD').trim();
  git(repo, 'switch', '--quiet', '-c', 'feature');
  writeFiles(repo, {
    [definition]: `export const ${cluster} = { workers: 4 };\n`,
    [`${names.gitopsPath}/apps/web.yaml`]: configMap('apps', 'web-config', { LOG_LEVEL: 'debug' }),
    [`${names.gitopsPath}/apps/web-service.yaml`]: service('apps', 'web'),
    [`${otherPath}/apps/web.yaml`]: configMap('apps', 'web-config', { LOG_LEVEL: 'warn' }),
  });
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'head');
  const head = git(repo, 'rev-parse', 'HEAD').trim();

  const paths = pipelinePaths(repo);
  const stackDir = join(paths.stacksDir, names.stack);
  mkdirSync(stackDir, { recursive: true });
  writeFileSync(join(stackDir, 'cdk.tf.json'), `${JSON.stringify(headStack(platform, cluster), null, 2)}\n`);
  writeFileSync(join(stackDir, 'terraform.tfstate'), `${JSON.stringify(baseState(platform, cluster), null, 2)}\n`);
  // cdktf's manifest: the flow orders stacks by it. Only this stack has a folder; the
  // account stack is listed to show an unaffected stack is not planned.
  const manifest = { stacks: { [platform.names.ciIdentityStack]: { dependencies: [] }, [names.stack]: { dependencies: [] } } };
  writeFileSync(join(paths.infraOut, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { repo, base, head, stack: names.stack, stackDir };
}
