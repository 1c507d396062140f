import { stringify } from 'yaml';

/** Relative path → file content of one cluster's folder. */
export type ClusterTree = Readonly<Record<string, string>>;

export interface RenderedFile {
  /** Folder relative to the cluster folder, '/'-separated, e.g. `infrastructure/controllers`. */
  readonly folder: string;
  readonly file: string;
  readonly objects: readonly unknown[];
}

export function toYamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

function kustomization(resources: readonly string[]): string {
  return stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...resources] }, { lineWidth: 0 });
}

/**
 * Writes every file plus a kustomization.yaml in every folder listing its files and
 * sub-folders in synthesis order, so `kubectl kustomize` builds any folder. The cluster root
 * lists only `rootFolder` (Flux's own folder): whatever syncs the root applies Flux and the
 * layer Kustomizations, and every other folder is reached through those, in dependsOn order.
 */
export function renderTree(files: readonly RenderedFile[], rootFolder: string): ClusterTree {
  const tree: Record<string, string> = {};
  const entries = new Map<string, string[]>([['', []]]);
  const addEntry = (folder: string, entry: string) => {
    if (folder === '') return;
    const list = entries.get(folder) ?? [];
    if (!list.includes(entry)) list.push(entry);
    entries.set(folder, list);
  };
  for (const f of files) {
    if (f.objects.length === 0) continue;
    const path = `${f.folder}/${f.file}`;
    if (tree[path] !== undefined) throw new Error(`two charts render ${path}; expected unique add-on ids`);
    tree[path] = toYamlDocuments(f.objects);
    addEntry(f.folder, f.file);
    const parts = f.folder.split('/');
    parts.forEach((part, i) => addEntry(parts.slice(0, i).join('/'), part));
  }
  if (entries.has(rootFolder)) entries.set('', [rootFolder]);
  for (const [folder, resources] of entries) tree[folder ? `${folder}/kustomization.yaml` : 'kustomization.yaml'] = kustomization(resources);
  return Object.fromEntries(Object.keys(tree).sort().map((k) => [k, tree[k]!]));
}
