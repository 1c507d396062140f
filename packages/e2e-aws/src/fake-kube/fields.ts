import { fluxSsaModel } from '@platform/failover';
import type { Obj } from './patch';

type ManagedEntry = fluxSsaModel.ManagedEntry;

/** metadata fields the API server sets itself: never owned by a field manager. */
const SYSTEM_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'name', 'namespace'];

/**
 * The fields of an object that field managers own, flattened (`spec.replica.enabled`) as in
 * failover's flux-ssa-model: everything but apiVersion/kind, status (its own subresource) and
 * the metadata the server sets. Lists are leaves (atomic), as for the CRD lists kubectl sets here.
 */
export function trackedFields(obj: Obj): Map<string, unknown> {
  return fluxSsaModel.flatten(trackedTree(obj));
}

/**
 * The tracked part of an object with every key's dots escaped (annotation keys such as
 * `eks.amazonaws.com/role-arn` are one field, as FieldsV1 `f:eks.amazonaws.com/role-arn` says),
 * so the model's dotted paths split only between fields.
 */
export function trackedTree(obj: Obj): Obj {
  const { apiVersion: _a, kind: _k, status: _s, metadata, ...rest } = obj;
  const meta = { ...((metadata as Obj | undefined) ?? {}) };
  for (const k of SYSTEM_METADATA) delete meta[k];
  return escapeKeys({ ...rest, metadata: meta }) as Obj;
}

const DOT = '\u2024';
const unescapeKey = (k: string) => k.split(DOT).join('.');

function escapeKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.split('.').join(DOT), escapeKeys(x)]));
}

const segments = (path: string) => path.split('.').map(unescapeKey);

export function setPath(obj: Obj, path: string, value: unknown): void {
  const parts = segments(path);
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === null || typeof cur[p] !== 'object' || Array.isArray(cur[p])) cur[p] = {};
    cur = cur[p] as Obj;
  }
  cur[parts[parts.length - 1]!] = structuredClone(value);
}

/** Removes a leaf and the maps it leaves empty. */
export function deletePath(obj: Obj, path: string): void {
  const parts = segments(path);
  const chain: Obj[] = [obj];
  for (const p of parts.slice(0, -1)) {
    const next = chain[chain.length - 1]![p];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return;
    chain.push(next as Obj);
  }
  delete chain[chain.length - 1]![parts[parts.length - 1]!];
  for (let i = chain.length - 1; i > 0; i--) if (Object.keys(chain[i]!).length === 0) delete chain[i - 1]![parts[i - 1]!];
}

/**
 * An Update (any write that is not an apply: create, patch, put, scale) by `manager`: it owns the
 * fields whose values it changed; removed fields are no longer owned by anyone.
 */
export function recordUpdate(entries: ManagedEntry[], before: Obj | undefined, after: Obj, manager: string, subresource?: string): ManagedEntry[] {
  const old = before ? trackedFields(before) : new Map<string, unknown>();
  const now = trackedFields(after);
  const changed = new Map([...now].filter(([k, v]) => JSON.stringify(old.get(k)) !== JSON.stringify(v)));
  const live = { fields: old, managedFields: entries.map((e) => ({ ...e, fields: new Set(e.fields) })) };
  if (changed.size > 0) fluxSsaModel.update(live, manager, changed, subresource);
  for (const e of live.managedFields) for (const f of [...e.fields]) if (!now.has(f)) e.fields.delete(f);
  return live.managedFields.filter((e) => e.fields.size > 0);
}

export interface ApplyResult {
  readonly object: Obj;
  readonly entries: ManagedEntry[];
}

export interface ApplyConflict {
  readonly manager: string;
  readonly field: string;
}

/**
 * Server-side apply of `applied` by `manager` to `current` (undefined: create). A field another
 * manager owns with a different value is a conflict unless `force` (then it changes hands).
 * Fields this manager applied before, left out now and owned by nobody else, are removed.
 */
export function serverSideApply(current: Obj | undefined, entries: ManagedEntry[], applied: Obj, manager: string, force: boolean): ApplyResult | { conflicts: ApplyConflict[] } {
  const want = trackedFields(applied);
  const have = current ? trackedFields(current) : new Map<string, unknown>();
  const mine = (e: ManagedEntry) => e.manager === manager && e.operation === 'Apply' && !e.subresource;
  const others = entries.filter((e) => !mine(e));
  const conflicts: ApplyConflict[] = [];
  for (const [path, value] of want) {
    if (JSON.stringify(have.get(path)) === JSON.stringify(value)) continue;
    for (const e of others) if (e.fields.has(path)) conflicts.push({ manager: e.manager, field: path });
  }
  if (conflicts.length > 0 && !force) return { conflicts };
  const next: ManagedEntry[] = others.map((e) => ({ ...e, fields: new Set([...e.fields].filter((f) => !(want.has(f) && JSON.stringify(have.get(f)) !== JSON.stringify(want.get(f))))) }));
  // Forced: conflicting fields change hands. An identical value another manager owns stays shared.
  const previous = entries.find(mine);
  const object = structuredClone(current ?? { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { name: (applied.metadata as Obj).name, namespace: (applied.metadata as Obj).namespace } });
  for (const path of previous?.fields ?? []) {
    if (!want.has(path) && !next.some((e) => e.fields.has(path))) deletePath(object, path);
  }
  for (const [path, value] of want) setPath(object, path, value);
  next.push({ manager, operation: 'Apply', fields: new Set(want.keys()) });
  return { object, entries: next.filter((e) => e.fields.size > 0) };
}

/** kustomize-controller's sync of Git's `desired` (failover's flux-ssa-model: takeover, then a forced apply). */
export function fluxSync(current: Obj, entries: ManagedEntry[], desired: Obj): ApplyResult {
  const live = { fields: trackedFields(current), managedFields: entries.map((e) => ({ ...e, fields: new Set(e.fields) })) };
  const before = new Map(live.fields);
  fluxSsaModel.fluxApply(live, trackedTree(desired));
  const object = structuredClone(current);
  for (const path of before.keys()) if (!live.fields.has(path)) deletePath(object, path);
  for (const [path, value] of live.fields) setPath(object, path, value);
  return { object, entries: live.managedFields.filter((e) => e.fields.size > 0) };
}

/** metadata.managedFields as the API server shows them (FieldsV1). */
export function renderManagedFields(entries: readonly ManagedEntry[], apiVersion: string, time: string): Obj[] {
  return entries.map((e) => {
    const fieldsV1: Obj = {};
    for (const path of e.fields) {
      let cur = fieldsV1;
      for (const p of segments(path)) cur = (cur[`f:${p}`] ??= {}) as Obj;
    }
    return { manager: e.manager, operation: e.operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1, ...(e.subresource ? { subresource: e.subresource } : {}) };
  });
}
