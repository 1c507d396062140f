import committed from './failover-state.json';

/**
 * Which cluster serves a failover pair's users, as the last promotion or fail-back committed it
 * (packages/failover writes `failover-state.json`; the region-failover workflow commits it). The
 * SSM promoted marker is the fast path the tools read during an outage; this is the durable
 * record in Git: it survives a lost region, a deleted parameter and a suspended Kustomization,
 * and it is reviewed like any change.
 */
export interface ServingState {
  /** The cluster users reach: the primary itself, or its standby while promoted. */
  readonly serving: string;
  /** When users were moved to it (UTC, to the second). */
  readonly since: string;
  /** The failover run that moved them. */
  readonly runId: string;
}

/** By primary cluster name; a primary not listed serves itself. */
export type FailoverState = Readonly<Record<string, ServingState>>;

const SINCE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Checks the committed file's shape; the message names the entry, the field, the value and what is allowed. */
export function parseFailoverState(value: unknown, file = 'failover-state.json'): FailoverState {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file}: got ${JSON.stringify(value)}; expected an object keyed by primary cluster name`);
  for (const [primary, entry] of Object.entries(value as Record<string, unknown>)) {
    const e = (entry ?? {}) as Record<string, unknown>;
    for (const [field, ok, allowed] of [
      ['serving', typeof e.serving === 'string' && e.serving !== '', 'a cluster name'],
      ['since', typeof e.since === 'string' && SINCE.test(e.since), 'a UTC time like 2026-01-01T12:00:00Z'],
      ['runId', typeof e.runId === 'string' && e.runId !== '', 'the failover run id'],
    ] as const) {
      if (!ok) throw new Error(`${file}: ${primary}.${field}: got ${JSON.stringify(e[field])}; expected ${allowed}`);
    }
  }
  return value as FailoverState;
}

export const FAILOVER_STATE: FailoverState = parseFailoverState(committed);

/** The cluster serving `primary`'s users according to Git. */
export function servingCluster(primary: string, state: FailoverState = FAILOVER_STATE): string {
  return state[primary]?.serving ?? primary;
}

/** The file's text for `state` (keys sorted, so a rewrite is deterministic). */
export function renderFailoverState(state: FailoverState): string {
  const sorted = Object.fromEntries(Object.keys(state).sort().map((k) => [k, { serving: state[k]!.serving, since: state[k]!.since, runId: state[k]!.runId }]));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}
