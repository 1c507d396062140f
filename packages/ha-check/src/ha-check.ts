import { analyze } from './analyze';
import { buildInfraModel } from './infra-model';
import { loadManifests, type LoadManifestsOptions } from './manifests';
import type { DeploymentModel } from './model';
import type { Objectives } from './objectives';
import type { Report } from './report-types';
import { HaCheckInputError } from './input-error';
import { loadTerraform, type TerraformIndex } from './terraform';
import { buildManifestModel } from './workload-model';

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
export function loadDeployment(input: Pick<HaCheckInput, 'terraform' | 'manifests' | 'builder' | 'standbyTerraform'>): DeploymentModel {
  const infra = buildInfraModel(clusterTerraform(input.terraform));
  const manifests = buildManifestModel(loadManifests(input.manifests, { builder: input.builder }));
  const standby = input.standbyTerraform && input.standbyTerraform.length > 0 ? buildInfraModel(clusterTerraform(input.standbyTerraform)) : undefined;
  return { infra, manifests, ...(standby ? { standby } : {}) };
}

/** Load, model and analyze: the library form of `npx ha-check`. */
export function runHaCheck(input: HaCheckInput): Report {
  return analyze(loadDeployment(input), { objectives: input.objectives, cluster: input.cluster });
}
