import { bootstrapNames, defaultPlatform, imdsFenced, legacyBackupCredentials, SCALE_DAY_ACCESS, SCALE_DAY_LOAD_POD } from '@platform/platform-config';
import { analyze } from './analyze';
import type { SensitiveResources } from './private/ci-identity-analysis';
import { buildInfraModel } from './infra-model';
import { loadManifests, manifestLayer, type K8sObject, type LoadManifestsOptions } from './manifests';
import { terminationModel } from './private/termination-analysis';
import { identityModel, type DeclaredLegacyUser, type EtcdSnapshots } from './private/identity-model';
import { podIdentities } from './private/pod-identities';
import type { DeploymentModel } from './model';
import type { Objectives } from './objectives';
import type { Report } from './report-types';
import { HaCheckInputError } from './input-error';
import { secretsInState } from './private/state-secrets';
import { sharedStoredCharts, StoredCharts } from './private/stored-charts';
import { loadTerraform, type TerraformIndex } from './terraform';
import { buildManifestModel } from './workload-model';
import type { ScaleDayInput } from './private/elasticity-analysis';

export interface HaCheckInput {
  /** cdk.tf.json / plan JSON files, or directories searched for them. */
  readonly terraform: readonly string[];
  /** A `clusters/<name>` folder (built the way Flux builds it). */
  readonly manifests: string;
  readonly objectives: Objectives;
  readonly cluster?: string;
  /** The standby's Terraform (files or directories): its failover record is checked too. */
  readonly standbyTerraform?: readonly string[];
  readonly builder?: LoadManifestsOptions['builder'];
  /** The CI identity stack's Terraform (files or directories): its roles are judged too. */
  readonly ciIdentityTerraform?: readonly string[];
  /** Where the charts' default values are stored (`<chart>/<version>/values.yaml`). @default shared/charts beside the repository */
  readonly charts?: string;
  /** Manifest files already parsed (the CLI shares them with its promotion path). @default none */
  readonly manifestFiles?: LoadManifestsOptions['files'];
}

/**
 * The Terraform of a cluster: a stack with no subnet and no Auto Scaling group (the CI identity
 * stack, a state backend) has nothing to lose an AZ of, and judging it would only report noise.
 */
function clusterTerraform(paths: readonly string[]): TerraformIndex {
  const index = loadTerraform(paths);
  if (index.byType('aws_subnet').length === 0 && index.byType('aws_autoscaling_group').length === 0) {
    const types = [...new Set(index.resources.map((r) => r.type))].sort();
    throw new HaCheckInputError(
      `${index.stacks.map((st) => st.stack).join(', ')}: no cluster in this Terraform (no aws_subnet or aws_autoscaling_group; it has ${types.join(', ') || 'no resources'}); pass a cluster stack (apps/infra/cdktf.out/stacks/<name>-cluster) or --cluster <name>`,
    );
  }
  return index;
}

/** Loads both halves of the deployment into one model. */
export function loadDeployment(input: Pick<HaCheckInput, 'terraform' | 'manifests' | 'builder' | 'standbyTerraform' | 'cluster' | 'charts' | 'manifestFiles'>): DeploymentModel {
  const charts = input.charts === undefined ? sharedStoredCharts() : new StoredCharts(input.charts);
  const index = clusterTerraform(input.terraform);
  const objects = loadManifests(input.manifests, { builder: input.builder, ...(input.manifestFiles ? { files: input.manifestFiles } : {}) });
  const infra = buildInfraModel(index, charts);
  const manifests = buildManifestModel(objects, { charts });
  const standby = input.standbyTerraform && input.standbyTerraform.length > 0 ? buildInfraModel(clusterTerraform(input.standbyTerraform), charts) : undefined;
  const identity = identityModel(index, infra.nodeGroups, podIdentities(objects, manifests.podTemplates, manifestLayer), podIdentityWebhook(objects), issuerHost(input.cluster), etcdSnapshots(input.cluster), declaredLegacyUser(input.cluster), imdsFenceRequired(input.cluster));
  return { infra, manifests, termination: terminationModel(index, objects), identity, ...(standby ? { standby } : {}) };
}

/** The cluster's issuer host from platform-config (undefined for a cluster it does not define). */
function issuerHost(cluster: string | undefined): string | undefined {
  if (cluster === undefined) return undefined;
  try {
    return defaultPlatform().namesOf(cluster).serviceAccountIssuer.host;
  } catch {
    return undefined;
  }
}

/** The backup user platform-config keeps for the cluster's IRSA migration (undefined once complete, or for a cluster it does not define). */
function declaredLegacyUser(cluster: string | undefined): DeclaredLegacyUser | undefined {
  if (cluster === undefined) return undefined;
  try {
    const platform = defaultPlatform();
    const definition = platform.cluster(cluster);
    const identity = definition.serviceAccountIdentity;
    return identity.legacyBackupUser ? { name: legacyBackupCredentials(definition.name, platform.namesOf(definition).appBackupArchive.namespace).iamUser, stage: identity.stage } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether platform-config fences IMDS off the cluster's pods (`imdsFenced`); false for a cluster it does not define. */
function imdsFenceRequired(cluster: string | undefined): boolean {
  const definition = cluster === undefined ? undefined : defaultPlatform().clusters.find((c) => c.name === cluster);
  return definition !== undefined && imdsFenced(definition);
}

/** Where platform-config puts the cluster's etcd snapshots (undefined for a cluster it does not define). */
function etcdSnapshots(cluster: string | undefined): EtcdSnapshots | undefined {
  if (cluster === undefined) return undefined;
  try {
    const platform = defaultPlatform();
    const names = platform.namesOf(cluster);
    const certificateKeyArn = `arn:aws:ssm:${platform.cluster(cluster).region}:<account>:parameter${names.ssm.certificateKey}`;
    return { bucket: names.etcdBackupBucket, prefix: bootstrapNames(names).etcdSnapshotPrefix, certificateKeyArn };
  } catch {
    return undefined;
  }
}

/** A pod identity webhook (what turns `eks.amazonaws.com/role-arn` into a token and env), by its workload or webhook name. */
function podIdentityWebhook(objects: readonly K8sObject[]): string | undefined {
  const hit = objects.find((o) => ['Deployment', 'HelmRelease', 'MutatingWebhookConfiguration'].includes(o.kind) && /pod-identity-webhook/.test(JSON.stringify(o.metadata ?? {}) + JSON.stringify((o as { spec?: { chart?: unknown } }).spec?.chart ?? '')));
  return hit ? `${hit.kind}/${String((hit.metadata as { name?: string } | undefined)?.name)}` : undefined;
}

/** Load, model and analyze: the library form of `npx ha-check`. */
export function runHaCheck(input: HaCheckInput): Report {
  const model = loadDeployment(input);
  const ci = input.ciIdentityTerraform && input.ciIdentityTerraform.length > 0 ? loadTerraform(input.ciIdentityTerraform) : undefined;
  const scaleDay = scaleDayOf(input.cluster);
  return analyze(model, { objectives: input.objectives, cluster: input.cluster, ...(scaleDay ? { scaleDay } : {}), ...(ci ? { ciIdentity: { index: ci, sensitive: sensitiveResources(model, ci, input.cluster, input.objectives) } } : {}) });
}

/** Scale day's app and k6 pod (platform-config) for a cluster platform-config defines. */
function scaleDayOf(cluster: string | undefined): ScaleDayInput | undefined {
  if (!cluster || !defaultPlatform().clusters.some((c) => c.name === cluster)) return undefined;
  const { app, namespace } = SCALE_DAY_ACCESS;
  return { workload: `Deployment/${app.namespace}/${app.deployment}`, loadPod: { namespace, requests: { cpuMilli: SCALE_DAY_LOAD_POD.cpuMilli, memoryMiB: SCALE_DAY_LOAD_POD.memoryMiB } } };
}

/** What no pull request may reach: the cluster's join material, backups and the Terraform state (platform-config names). */
function sensitiveResources(model: DeploymentModel, ci: TerraformIndex, cluster: string | undefined, objectives: Objectives): SensitiveResources {
  const platform = defaultPlatform();
  const names = cluster ? platform.namesOf(cluster) : undefined;
  // The kubeconfigs CI reads to reach a cluster: this one's, and its pair's (a failover reaches both).
  const pair = [cluster, objectives.standbyCluster, objectives.primaryCluster].filter((c): c is string => c !== undefined);
  const kubeconfigParameters = [...new Set(pair)].flatMap((c) => {
    const def = platform.clusters.find((d) => d.name === c);
    return def ? [{ name: platform.namesOf(c).ssm.ciKubeconfig, region: def.region }] : [];
  });
  return {
    region: model.infra.region ?? 'us-east-1',
    joinParameters: names ? [names.ssm.joinToken, names.ssm.caCertHash, names.ssm.certificateKey] : [],
    kubeconfigParameters,
    // The database's archive may live in another region's bucket (a failover primary's appWalArchive).
    snapshotBuckets: names ? [...new Set([names.etcdBackupBucket, names.appBackupBucket, names.appWalArchive.bucket])] : model.infra.backupBuckets,
    stateBucket: platform.names.stateBucket,
    stateSecrets: [...model.infra.stateSecrets, ...secretsInState(ci)],
  };
}
