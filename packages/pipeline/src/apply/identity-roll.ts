import {
  bootstrapNames,
  SERVICE_ACCOUNT_IDENTITY_STAGES,
  type ClusterDefinition,
  type ClusterNames,
  type Platform,
  type ServiceAccountIdentityStage,
} from '@platform/platform-config';
import { identityAtCommit, type IdentityAtCommit } from '../io/base-identity-stages';
import { committedIdentityAt, IDENTITY_STAGES_FILE } from '../io/committed-identity-stages';
import { readAppliedRecord } from './applied-record';
import { applyBase, appliedRef } from './applied-ref';
import { controlPlaneGroups } from '../operations/control-plane-roll';

/*
 * The identity-roll gate of the merge apply. A pull request moves a cluster's
 * `serviceAccountIdentity` one stage at most (pipeline identity-stages), but that alone lets the
 * next stage's apply start while a control-plane node still runs the stage before the previous one:
 * e.g. `sign-with-issuer` while a node booted before `accept-issuer` does not accept the new issuer
 * yet, and every token the others sign gets 401 there. Each control-plane node records the stage it
 * booted with in SSM (node-bootstrap control-plane.sh, `bootstrapNames().identityStageRecords`); this
 * gate refuses the stack until every running control-plane instance recorded the stage just before
 * head (or head). The applied tag can lag more than one stage (an apply failed, was cancelled or awaits
 * approval, then the next pull request merged): such a stack is refused outright, one stage per apply.
 */

/** One page of SSM GetParametersByPath (MaxResults at most 10; a page may hold fewer, even none, with a NextToken). */
export interface ParametersPage {
  readonly Parameters: readonly { readonly Name: string; readonly Value: string; readonly LastModifiedDate?: string }[];
  readonly NextToken?: string;
}

/** The EC2 and SSM calls the gate makes in the cluster's region. */
export interface IdentityRollApi {
  /** EC2 DescribeInstances with these filters (values of one filter OR, filters AND), every page. */
  describeInstances(filters: readonly { readonly Name: string; readonly Values: readonly string[] }[]): Promise<readonly { readonly InstanceId: string; readonly State: { readonly Name: string } }[]>;
  getParametersByPath(request: { readonly Path: string; readonly Recursive: boolean; readonly MaxResults: number; readonly NextToken?: string }): Promise<ParametersPage>;
  /** SSM DeleteParameter; rejects with ParameterNotFound in the message when it is gone already. */
  deleteParameter(name: string): Promise<void>;
}

/** GetParametersByPath's largest page. */
export const PARAMETERS_PAGE_SIZE = 10;

/**
 * A record whose instance EC2 does not list at all is removed only once it is this old: EC2 keeps a
 * terminated instance listed for about an hour, and a record written moments ago by an instance the
 * (eventually consistent) listing does not show yet must not be lost (a node records only at boot).
 */
export const UNLISTED_RECORD_MIN_AGE_MS = 2 * 3600_000;

/** A node's record: `stage=<stage> config=<sha256 of its kube-apiserver patch>`; undefined when unreadable. */
export function parseIdentityStageRecord(value: string): { readonly stage: string; readonly config: string } | undefined {
  const match = /^stage=(\S+) config=([0-9a-f]{64})$/.exec(value.trim());
  return match ? { stage: match[1]!, config: match[2]! } : undefined;
}

/** Every parameter directly under `path` (value, last written), following NextToken until SSM returns none. */
export async function parametersUnder(api: IdentityRollApi, path: string): Promise<Map<string, { readonly value: string; readonly modified?: string }>> {
  const found = new Map<string, { readonly value: string; readonly modified?: string }>();
  let token: string | undefined;
  do {
    const page = await api.getParametersByPath({ Path: path, Recursive: false, MaxResults: PARAMETERS_PAGE_SIZE, ...(token ? { NextToken: token } : {}) });
    for (const p of page.Parameters) found.set(p.Name, { value: p.Value, ...(p.LastModifiedDate ? { modified: p.LastModifiedDate } : {}) });
    token = page.NextToken;
  } while (token);
  return found;
}

export interface IdentityRollCheck {
  readonly cluster: ClusterDefinition;
  readonly names: ClusterNames;
  /**
   * The cluster's stage at the applied commit: a stage name; null when that commit declared none
   * (before the field existed: treated as the stage before accept-issuer, so only a move to
   * accept-issuer passes unchecked); `'absent'` when the cluster is new there and undefined when no
   * applied commit is known (first apply, rewritten history): these two are not checked.
   */
  readonly applied: string | null | 'absent' | undefined;
  /**
   * Whether the applied commit's node-bootstrap records each control-plane node's stage. false: the
   * nodes running now booted before records existed, so a missing record is accepted for this first
   * move since (the stack refused would be the one bringing the recording launch template).
   * @default true
   */
  readonly appliedRecords?: boolean;
  /** The applied tag's commit, named in the messages. @default not named */
  readonly appliedCommit?: string;
  readonly api: IdentityRollApi;
  readonly log?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface IdentityRollResult {
  /** Why the stack may not be applied yet; undefined when it may. */
  readonly problem?: string;
  /** Records of terminated instances that were deleted. */
  readonly removed: readonly string[];
}

const isStage = (stage: string): stage is ServiceAccountIdentityStage => (SERVICE_ACCOUNT_IDENTITY_STAGES as readonly string[]).includes(stage);

export async function checkIdentityRoll(check: IdentityRollCheck): Promise<IdentityRollResult> {
  const { cluster, names, api } = check;
  const log = check.log ?? (() => undefined);
  const head = cluster.serviceAccountIdentity.stage;
  if (check.applied === 'absent') return { removed: [] };
  if (check.applied === undefined) {
    // Only the first apply (no node yet) or a rewritten history: refusing would hold every cluster
    // until a roll that only an apply starts; the pull request's one-stage check still held.
    log(`${cluster.name}: no applied commit known; the identity-roll gate cannot tell whether serviceAccountIdentity moves: not checked`);
    return { removed: [] };
  }
  if (check.applied === head) return { removed: [] };
  if (check.applied !== null && !isStage(check.applied)) {
    return { removed: [], problem: `${cluster.name}: the applied commit's serviceAccountIdentity stage ${JSON.stringify(check.applied)} is unknown here; expected one of ${SERVICE_ACCOUNT_IDENTITY_STAGES.join(', ')}` };
  }
  // null: the applied commit predates the field, i.e. the nodes run what became "before accept-issuer".
  const from = check.applied === null ? -1 : SERVICE_ACCOUNT_IDENTITY_STAGES.indexOf(check.applied);
  const to = SERVICE_ACCOUNT_IDENTITY_STAGES.indexOf(head);
  const fromName = check.applied ?? 'no serviceAccountIdentity';
  // The applied tag lags when an apply failed, was cancelled or awaits approval and the next pull request
  // merged: applying head now would move two stages at once, and the nodes would be checked against a
  // stage that is not the one just before head. Only one step per apply.
  if (Math.abs(to - from) > 1) {
    const between = SERVICE_ACCOUNT_IDENTITY_STAGES.slice(Math.min(from, to) + 1, Math.max(from, to));
    const next = to > from ? SERVICE_ACCOUNT_IDENTITY_STAGES[from + 1]! : SERVICE_ACCOUNT_IDENTITY_STAGES[from - 1]!;
    return {
      removed: [],
      problem:
        `${cluster.name}: serviceAccountIdentity moves from ${fromName} (applied${check.appliedCommit ? ` at ${check.appliedCommit.slice(0, 12)}` : ''}) to ${head}, ${Math.abs(to - from)} stages in one apply; the only stage this apply may move to is ${next}. ` +
        `The applied tag moves only at the end of an apply job that went through (inside the terraform-apply group, so never behind an apply that finished), hence the apply of the commit at ${between.join(', then ')} failed, was cancelled or was not approved. ` +
        `Apply that commit first: re-run all jobs of its apply.yml run (apply, control-plane roll, applied tag; docs/runbooks/service-account-issuer.md), then re-run all jobs of this one.`,
    };
  }
  if (from < 0) {
    // head is accept-issuer: nodes from before the field record nothing, and accept-issuer only adds an accepted issuer.
    log(`${cluster.name}: the applied commit declares no serviceAccountIdentity; moving to ${head}, which every earlier node tolerates: no records asked`);
    return { removed: [] };
  }
  // The stage just before head (the applied one, one step away) or head itself: a node already on head
  // is not behind, an earlier apply of this same move rolled it.
  const applied = SERVICE_ACCOUNT_IDENTITY_STAGES[from]!;
  const accepted: string[] = [applied, head];
  const groups = controlPlaneGroups(cluster, names);
  // Every state: terminated instances stay listed for a while, which tells their records are stale.
  const instances = await api.describeInstances([{ Name: 'tag:aws:autoscaling:groupName', Values: groups }]);
  const path = bootstrapNames(names).identityStageRecords;
  const records = await parametersUnder(api, path);
  const state = new Map(instances.map((i) => [i.InstanceId, i.State.Name]));

  const removed: string[] = [];
  const now = (check.now ?? Date.now)();
  for (const [name, record] of records) {
    const id = name.slice(path.length + 1);
    // Gone: terminated, or no longer listed at all and written long ago (EC2 forgets terminated instances after about an hour).
    const listed = state.get(id);
    const old = record.modified !== undefined && now - Date.parse(record.modified) >= UNLISTED_RECORD_MIN_AGE_MS;
    if (listed === undefined ? !old : listed !== 'terminated') continue;
    try {
      await api.deleteParameter(name);
    } catch (error) {
      if (!String(error instanceof Error ? error.message : error).includes('ParameterNotFound')) throw error;
    }
    removed.push(name);
  }
  if (removed.length > 0) log(`${cluster.name}: removed the stage records of instances that are gone: ${removed.join(', ')}`);

  const running = instances.filter((i) => i.State.Name === 'running').map((i) => i.InstanceId).sort();
  const behind: string[] = [];
  const unrecorded: string[] = [];
  for (const id of running) {
    const value = records.get(`${path}/${id}`)?.value;
    // Booted from the applied commit, which predates the records: it runs that commit's stage.
    if (value === undefined && check.appliedRecords === false) {
      unrecorded.push(id);
      continue;
    }
    const record = value === undefined ? undefined : parseIdentityStageRecord(value);
    if (!record || !accepted.includes(record.stage)) behind.push(`${id} (${value === undefined ? 'nothing recorded' : value})`);
  }
  if (unrecorded.length > 0) {
    log(`${cluster.name}: the applied commit's node-bootstrap records no identity stage; accepted without a record (booted from it): ${unrecorded.join(', ')}`);
  }
  if (behind.length > 0) {
    return {
      removed,
      problem:
        `${cluster.name}: serviceAccountIdentity moves from ${applied} to ${head}, but not every running control-plane node runs ${applied} yet: ${behind.join(', ')}. ` +
        `The previous stage's roll has not finished (a token the other API servers sign would be refused there). Wait for the roll to finish ` +
        `(\`npm run pipeline:roll-control-plane -- --cluster ${cluster.name}\` with the apply role rolls what is left), or replace those instances ` +
        `(their ASG launches one from the current launch template, which records ${applied} at the end of its boot); then re-run this apply. Records: ${path}/<instance id>.`,
    };
  }
  log(`${cluster.name}: every running control-plane node (${running.join(', ') || 'none'}) runs ${applied}: moving to ${head}`);
  return { removed };
}

/** What the applied commit declares, and which commit that is (for the messages). */
export interface AppliedIdentity extends IdentityAtCommit {
  readonly commit?: string;
}

/**
 * applyStacks' `beforeStack` for the merge apply: refuses a cluster stack whose stage differs from the
 * applied commit's until the previous roll has finished. `applied` gives what the applied commit
 * declares (undefined when no applied commit is known); asked once, on the first cluster stack.
 */
export function identityRollGuard(platform: Platform, applied: () => Promise<AppliedIdentity | undefined>, api: (cluster: ClusterDefinition) => IdentityRollApi, log: (line: string) => void) {
  let known: Promise<AppliedIdentity | undefined> | undefined;
  return async (stack: string): Promise<void> => {
    const cluster = platform.clusters.find((c) => platform.namesOf(c).stack === stack);
    if (!cluster) return;
    const at = await (known ??= applied());
    const stage = at === undefined ? undefined : cluster.name in at.stages ? at.stages[cluster.name]! : 'absent';
    const result = await checkIdentityRoll({ cluster, names: platform.namesOf(cluster), applied: stage, ...(at ? { appliedRecords: at.stageRecords, ...(at.commit ? { appliedCommit: at.commit } : {}) } : {}), api: api(cluster), log });
    if (result.problem) throw new Error(result.problem);
  };
}

/**
 * The stages at the applied tag (the last commit whose stacks all applied: what the nodes were rolled
 * onto) and whether its nodes record them, as the tag's record says (mark-applied wrote it with that
 * commit's own code; applied-record.ts); undefined without a tag (first apply, rewritten history).
 * Needs the tag in the clone (the apply job checks out with fetch-depth 0, which fetches every tag).
 *
 * A tag written before records existed carries none: then that commit's committed
 * identity-stages.json (committed-identity-stages.ts), and without one, once, the old way: that commit's
 * platform-config loaded from a detached worktree with today's node_modules (fails closed when a
 * dependency changed in between; the error names `mark-applied --record`, the way out). The apply job's
 * mark-applied records the data for the next run.
 */
export async function appliedIdentityStages(
  platform: Pick<Platform, 'settings' | 'clusters'>,
  repoRoot: string,
  log: (line: string) => void,
  fallback: (repoRoot: string, commit: string) => Promise<IdentityAtCommit> = identityAtCommit,
): Promise<AppliedIdentity | undefined> {
  const ref = appliedRef(platform);
  const base = applyBase(repoRoot, ref);
  if (base.kind === 'all') {
    log(`identity-roll: ${base.reason}; the applied stages are unknown`);
    return undefined;
  }
  const record = readAppliedRecord(repoRoot, ref, base.base);
  if (record) {
    log(`identity-roll: the applied stages as ${ref} (${base.base.slice(0, 12)}) records them`);
    return { stages: Object.fromEntries(Object.entries(record.clusters).map(([name, c]) => [name, c.serviceAccountIdentity])), stageRecords: record.identityStageRecords, commit: base.base };
  }
  // The same data, committed with that commit (pipeline identity-stages --write): still no import.
  const committed = committedIdentityAt(repoRoot, base.base);
  if (committed) {
    log(`identity-roll: ${ref} (${base.base.slice(0, 12)}) carries no applied record: the applied stages as that commit's ${IDENTITY_STAGES_FILE} records them`);
    return { ...committed, commit: base.base };
  }
  log(
    `identity-roll: ${ref} (${base.base.slice(0, 12)}) carries no applied record (tagged before mark-applied recorded one): ` +
      `falling back, this once, to loading that commit's platform-config; the next mark-applied records the stages with the tag`,
  );
  try {
    return { ...(await fallback(repoRoot, base.base)), commit: base.base };
  } catch (error) {
    // Fail closed, but with the way out: every cluster apply stays refused until the tag carries a record.
    throw new Error(
      `identity-roll: ${ref} (${base.base.slice(0, 12)}) carries no applied record, and that commit's platform-config does not load here ` +
        `(${error instanceof Error ? error.message : String(error)}). Write its record by hand with the stages that commit declares ` +
        `(packages/platform-config/src/clusters/*.ts at ${base.base.slice(0, 12)}): \`npm run pipeline:mark-applied -- --record ${stageArguments(platform)}\` ` +
        `(a push token; docs/runbooks/deploy-refs.md, "The applied tag by hand"), then re-run this apply.`,
    );
  }
}

/** `--stage <cluster>=<stage>` for each of today's clusters, the stage left for the operator to fill in. */
function stageArguments(platform: Pick<Platform, 'clusters'>): string {
  return platform.clusters.map((c) => `--stage ${c.name}=<stage>`).join(' ');
}
