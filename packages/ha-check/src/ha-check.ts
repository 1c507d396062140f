import { analyze } from './analyze';
import { buildInfraModel } from './infra-model';
import { loadManifests, type LoadManifestsOptions } from './manifests';
import type { DeploymentModel } from './model';
import type { Objectives } from './objectives';
import type { Report } from './report-types';
import { loadTerraform } from './terraform';
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

/** Loads both halves of the deployment into one model. */
export function loadDeployment(input: Pick<HaCheckInput, 'terraform' | 'manifests' | 'builder' | 'standbyTerraform'>): DeploymentModel {
  const infra = buildInfraModel(loadTerraform(input.terraform));
  const manifests = buildManifestModel(loadManifests(input.manifests, { builder: input.builder }));
  const standby = input.standbyTerraform && input.standbyTerraform.length > 0 ? buildInfraModel(loadTerraform(input.standbyTerraform)) : undefined;
  return { infra, manifests, ...(standby ? { standby } : {}) };
}

/** Load, model and analyze: the library form of `npx ha-check`. */
export function runHaCheck(input: HaCheckInput): Report {
  return analyze(loadDeployment(input), { objectives: input.objectives, cluster: input.cluster });
}
