import { basename } from 'node:path';
import { Findings } from './findings';
import type { DeploymentModel } from './model';
import type { Objectives } from './objectives';
import { addonFindings, autoscalerDiscoveryFindings, nodePoolFindings } from './private/capacity-analysis';
import { PlacementBaseline, scaleOutSeconds } from './private/node-simulation';
import { controlPlaneFindings } from './private/control-plane-analysis';
import { azScenario, scenarioFindings } from './private/az-scenario';
import { ciIdentityAnalysis, repositoryOf, type SensitiveResources } from './private/ci-identity-analysis';
import { coldStart } from './private/cold-start-analysis';
import type { TerraformIndex } from './terraform';
import { decideFlows, flowFindings } from './private/flow-analysis';
import { elasticityAnalysis, type ScaleDayInput } from './private/elasticity-analysis';
import { egressFindings, topology } from './private/network-analysis';
import { regionScenario } from './private/region-analysis';
import { terminationAnalysis } from './private/termination-analysis';
import { identityAnalysis, webIdentityClients } from './private/identity-analysis';
import { workloadFacts, workloadFindings } from './private/workload-analysis';
import { RECOVERY_DEFAULTS } from './recovery-times';
import { AUTOSCALER_SCAN_INTERVAL_SECONDS } from './private/autoscaler-config';
import type { Report } from './report-types';

export interface AnalyzeOptions {
  readonly objectives: Objectives;
  readonly cluster?: string;
  /** The CI identity stack and what its roles must not reach. */
  readonly ciIdentity?: { readonly index: TerraformIndex; readonly sensitive: SensitiveResources };
  /** Scale day's app and load pod (elasticity's scale-day scenario). @default none */
  readonly scaleDay?: ScaleDayInput;
}

/** Simulates losing each AZ and the region; findings carry the verdict. */
export function analyze(model: DeploymentModel, options: AnalyzeOptions): Report {
  const { objectives } = options;
  const paired = objectives.standbyCluster !== undefined || objectives.primaryCluster !== undefined;
  const findings = new Findings({
    az: objectives.tolerateAzLoss ? 'error' : 'warning',
    region: objectives.tolerateRegionLoss ? 'error' : paired ? 'warning' : undefined,
    backups: objectives.requireCrossRegionBackups ? 'error' : 'warning',
  });
  const graceFound = model.infra.hints.nodeMonitorGracePeriodSeconds ?? model.manifests.hints.nodeMonitorGracePeriodSeconds;
  const grace = graceFound ?? RECOVERY_DEFAULTS.nodeMonitorGracePeriodSeconds(objectives.kubernetesVersion);
  const tolFound = model.infra.hints.defaultUnreachableTolerationSeconds ?? model.manifests.hints.defaultUnreachableTolerationSeconds;
  const defaultToleration = tolFound ?? RECOVERY_DEFAULTS.unreachableTolerationSeconds;

  for (const p of model.infra.preferredPlans) {
    findings.add('terraform.plan-preferred', p.skipped, `not loaded: the plan beside it (${p.plans.map((f) => basename(f)).join(', ')}) is what will be deployed, and loading both would count every resource twice`);
  }
  controlPlaneFindings(model.infra, findings);
  egressFindings(model.infra, findings);
  nodePoolFindings(model, findings);
  const autoscaler = addonFindings(model, findings);
  autoscalerDiscoveryFindings(model, findings);
  const facts = model.manifests.workloads.map((w) => workloadFacts(w, model.infra.nodeGroups, defaultToleration));
  for (const f of facts) workloadFindings(f, findings, grace, objectives.appRtoSeconds);
  for (const pdb of model.manifests.orphanPdbs) findings.add('pdb.selects-nothing', pdb, 'PodDisruptionBudget selects no Deployment or StatefulSet in the manifests');

  const flowOptions = { operatorCidrs: objectives.apiAllowedCidrs ?? [], stsClients: model.identity ? webIdentityClients(model.identity) : [] };
  const flows = decideFlows(model.infra.network, undefined, flowOptions);
  // Pods placed on the nodes once; each AZ loss is played on a copy.
  const placed = new PlacementBaseline(model);
  const azScenarios = model.infra.azs.map((az) => azScenario(model, facts, az, grace, autoscaler, placed, flowOptions));
  flowFindings(flows, azScenarios.map((s) => ({ id: s.id, flows: s.flows.blocked })), findings);
  if (model.infra.network.nodeGroups.length > 0 && model.infra.network.nodeGroups.every((g) => g.apiEndpoint === undefined)) {
    findings.add('flow.endpoint-unknown', 'node → API endpoint', 'no launch template\'s user data names the API endpoint (API_ENDPOINT in /etc/node-bootstrap/env): whether the nodes reach the API is not decided');
  }
  scenarioFindings(azScenarios, objectives, findings);
  const baseline = placed.pending;
  if (baseline.length > 0) findings.add('capacity.baseline-short', 'worker pools', `${baseline.reduce((n, p) => n + p.pods, 0)} pod(s) do not fit the nodes running before any failure: ${baseline.map((p) => `${p.workload} ${p.pods} (${p.reason})`).join('; ')}`);
  const region = regionScenario(model, objectives, findings, options.cluster);
  const coldStartReport = coldStart(model, findings, flows);
  const elasticity = elasticityAnalysis(model, objectives, findings, options.scaleDay);
  const termination = model.termination ? terminationAnalysis(model.termination, grace, defaultToleration, findings) : undefined;
  const identities = model.identity ? identityAnalysis(model.identity, findings) : undefined;
  const ci = options.ciIdentity;
  const ciIdentities = ci ? ciIdentityAnalysis(ci.index, ci.sensitive, repositoryOf(ci.index), findings) : undefined;

  // The exit status follows the verdicts: a required scenario that does not survive fails the check
  // even when only warnings back its problems (no zone spread, egress through another AZ's NAT).
  const required = [...(objectives.tolerateAzLoss ? azScenarios : []), ...(objectives.tolerateRegionLoss ? [region] : [])];
  for (const s of required.filter((x) => !x.survives)) {
    if (!findings.list().some((f) => f.severity === 'error' && (f.scenarios.length === 0 || f.scenarios.includes(s.id)))) findings.add('scenario.not-survived', s.id, `${s.id} does not survive: ${s.problems.join('; ')}`, { scenarios: [s.id] });
  }
  const list = findings.list();
  const count = (s: string): number => list.filter((f) => f.severity === s).length;
  return {
    schemaVersion: 2,
    cluster: options.cluster,
    region: model.infra.region,
    azs: model.infra.azs,
    objectives,
    summary: {
      objectivesMet: count('error') === 0,
      errors: count('error'),
      warnings: count('warning'),
      infos: count('info'),
      terraformResources: model.infra.resourceCount,
      kubernetesObjects: model.manifests.objectCount,
      workloads: model.manifests.workloads.length,
      nodeGroups: model.infra.nodeGroups.length,
    },
    assumptions: {
      nodeMonitorGracePeriodSeconds: grace,
      nodeMonitorGracePeriodSource: graceFound !== undefined ? 'synthesized output' : `Kubernetes default for ${objectives.kubernetesVersion ?? 'current versions'}`,
      defaultUnreachableTolerationSeconds: defaultToleration,
      defaultUnreachableTolerationSource: tolFound !== undefined ? 'synthesized output' : 'DefaultTolerationSeconds admission default',
      // The same terms the AZ scenarios use: the deployed autoscaler's scan interval + EC2 launch + node bootstrap.
      capacityRecoverySeconds: scaleOutSeconds(model.manifests.autoscaler?.scanIntervalSeconds ?? AUTOSCALER_SCAN_INTERVAL_SECONDS),
    },
    topology: topology(model.infra),
    flows,
    coldStart: coldStartReport,
    ...(ciIdentities ? { ciIdentities } : {}),
    ...(termination ? { termination } : {}),
    ...(elasticity ? { elasticity } : {}),
    ...(identities ? { identities } : {}),
    scenarios: [...azScenarios, region],
    findings: list,
  };
}
