import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';

/**
 * What Flux will change: the Kubernetes objects under clusters/ compared between the
 * base commit and a fresh synth, by cluster, kind, namespace and name. Comparing objects
 * rather than files means moving an object between files is not reported as a change.
 */

/** File path (relative to the repo, e.g. `clusters/production/apps/app.yaml`) to its text. */
export type ManifestTree = ReadonlyMap<string, string>;

export interface ObjectKey {
  readonly cluster: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

export interface ObjectChange extends ObjectKey {
  readonly change: 'added' | 'changed' | 'removed';
  /** Top-level fields that differ (changed objects only), e.g. `spec`, `metadata`. */
  readonly fields: readonly string[];
  readonly file: string;
}

export interface ManifestDiff {
  readonly added: readonly ObjectChange[];
  readonly changed: readonly ObjectChange[];
  readonly removed: readonly ObjectChange[];
}

interface Indexed {
  readonly key: ObjectKey;
  readonly object: Record<string, unknown>;
  readonly file: string;
}

function clusterOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'clusters' && parts.length > 2 ? parts[1] : '';
}

function index(tree: ManifestTree): Map<string, Indexed> {
  const out = new Map<string, Indexed>();
  for (const [file, text] of [...tree.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: not valid YAML: ${doc.errors[0].message}`);
      const object = doc.toJS() as Record<string, unknown> | null;
      if (!object || typeof object !== 'object' || typeof object.kind !== 'string') continue;
      const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
      // kustomize.config.k8s.io Kustomization files have no metadata.name: one per folder.
      const name = metadata.name ?? file.replace(/\/[^/]+$/, '');
      const key: ObjectKey = { cluster: clusterOf(file), kind: object.kind, namespace: metadata.namespace, name };
      const id = [String(object.apiVersion ?? '').split('/')[0], key.cluster, key.kind, key.namespace ?? '', key.name].join('\u0000');
      if (out.has(id)) throw new Error(`${file}: ${key.kind} ${key.namespace ?? '-'}/${key.name} is also defined in ${out.get(id)?.file}`);
      out.set(id, { key, object, file });
    }
  }
  return out;
}

export function diffManifests(base: ManifestTree, head: ManifestTree): ManifestDiff {
  const before = index(base);
  const after = index(head);
  const added: ObjectChange[] = [];
  const changed: ObjectChange[] = [];
  const removed: ObjectChange[] = [];
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!was) added.push({ ...now.key, change: 'added', fields: [], file: now.file });
    else if (!isDeepStrictEqual(was.object, now.object)) {
      const keys = [...new Set([...Object.keys(was.object), ...Object.keys(now.object)])].sort();
      const fields = keys.filter((k) => !isDeepStrictEqual(was.object[k], now.object[k]));
      changed.push({ ...now.key, change: 'changed', fields, file: now.file });
    }
  }
  for (const [id, was] of before) if (!after.has(id)) removed.push({ ...was.key, change: 'removed', fields: [], file: was.file });
  const order = (a: ObjectChange, b: ObjectChange) =>
    a.cluster.localeCompare(b.cluster) || a.kind.localeCompare(b.kind) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
  return { added: added.sort(order), changed: changed.sort(order), removed: removed.sort(order) };
}

/** Only the changes of one cluster. */
export function forCluster(diff: ManifestDiff, cluster: string): ManifestDiff {
  const pick = (list: readonly ObjectChange[]) => list.filter((c) => c.cluster === cluster);
  return { added: pick(diff.added), changed: pick(diff.changed), removed: pick(diff.removed) };
}

export function isEmptyDiff(diff: ManifestDiff): boolean {
  return diff.added.length + diff.changed.length + diff.removed.length === 0;
}
