import { StepError } from '../step';

/**
 * A CloudNativePG Cluster's `spec.replica` (CRD `ReplicaClusterConfiguration`): the standalone
 * form (`enabled`) or the distributed topology (`primary`, `self`), both replicating from the
 * external cluster `source`.
 */
export interface ReplicaSpec {
  readonly enabled?: boolean;
  readonly primary?: string;
  readonly self?: string;
  readonly source?: string;
  readonly promotionToken?: string;
  readonly minApplyDelay?: string;
}

/** The name a Cluster has in its distributed topology: `replica.self`, else its own name. */
export const topologyName = (clusterName: string, replica: ReplicaSpec | undefined): string => replica?.self ?? clusterName;

/**
 * CloudNativePG's rule (Cluster.IsReplica): `enabled` decides when set (the standalone form);
 * otherwise the Cluster is a replica when `primary` names another cluster than itself.
 */
export function isReplicaSpec(clusterName: string, replica: ReplicaSpec | undefined): boolean {
  if (!replica) return false;
  if (replica.enabled !== undefined) return replica.enabled;
  return replica.primary !== undefined && replica.primary !== topologyName(clusterName, replica);
}

/** Whether the spec uses the distributed topology (demotion and promotion tokens need it). */
export const isDistributed = (replica: ReplicaSpec | undefined): boolean => replica?.enabled === undefined && replica?.primary !== undefined;

/**
 * `status.demotionToken` as CloudNativePG writes it after a demotion: base64 of a JSON object
 * with pg_controldata's fields of the shutdown checkpoint. The new primary promotes only once
 * it has replayed up to `latestCheckpointREDOLocation` (same system identifier and timeline).
 */
export interface DemotionToken {
  readonly databaseSystemIdentifier: string;
  readonly latestCheckpointTimelineID: string;
  readonly latestCheckpointREDOLocation: string;
  readonly redoWalFile?: string;
  readonly timeOfLatestCheckpoint?: string;
}

/** Decodes a demotion token, refusing one that lacks what a promotion checks. */
export function decodeDemotionToken(token: string, where: string): DemotionToken {
  let parsed: Partial<DemotionToken>;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Partial<DemotionToken>;
  } catch (error) {
    throw new StepError(`${where}: status.demotionToken is not base64 JSON (${(error as Error).message}); refusing to promote with it`);
  }
  for (const field of ['databaseSystemIdentifier', 'latestCheckpointTimelineID', 'latestCheckpointREDOLocation'] as const) {
    if (typeof parsed[field] !== 'string' || parsed[field] === '') throw new StepError(`${where}: status.demotionToken has no ${field}; refusing to promote with it`);
  }
  return parsed as DemotionToken;
}
