/**
 * Shared by this package's tests (test/flux-ssa.test.ts) and the e2e fake API (packages/e2e-aws), so both judge the tool by one model.
 *
 * A model of how Flux's kustomize-controller server-side applies an object it owns, as its source
 * does it: before applying, every managedFields entry whose manager name STARTS WITH one of
 * `kubectl` (operation Apply or Update), `before-first-apply` (Update) or `kustomize-controller`
 * (Update), on no subresource, is renamed to kustomize-controller's Apply entry (the fields are
 * taken over). Then it applies Git's object with force: it owns exactly Git's fields afterwards,
 * and a field it owned before that Git no longer has, and no other manager owns, is removed.
 * Update operations (kubectl patch/annotate) take ownership of the fields they set.
 */
export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: string;
  fields: Set<string>;
}

export interface LiveObject {
  /** Flattened field paths (`spec.suspend`) to values. */
  fields: Map<string, unknown>;
  managedFields: ManagedEntry[];
}

export const FLUX_CONTROLLER = 'kustomize-controller';
export const FLUX_TAKEOVER: readonly { name: string; operation: 'Apply' | 'Update' }[] = [
  { name: 'kubectl', operation: 'Apply' },
  { name: 'kubectl', operation: 'Update' },
  { name: 'before-first-apply', operation: 'Update' },
  { name: FLUX_CONTROLLER, operation: 'Update' },
];

export function flatten(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
  } else out.set(prefix, value);
  return out;
}

/** A non-apply write (kubectl patch, annotate, scale): its manager takes the fields it sets. */
export function update(obj: LiveObject, manager: string, set: Map<string, unknown>, subresource?: string): void {
  for (const entry of obj.managedFields) for (const path of set.keys()) entry.fields.delete(path);
  let entry = obj.managedFields.find((e) => e.manager === manager && e.operation === 'Update' && e.subresource === subresource);
  if (!entry) obj.managedFields.push((entry = { manager, operation: 'Update', subresource, fields: new Set() }));
  for (const [path, value] of set) {
    obj.fields.set(path, value);
    entry.fields.add(path);
  }
}

/**
 * A server-side apply of `desired` by `manager` (forced, as kubectl --force-conflicts and Flux
 * do): it owns exactly `desired`'s fields afterwards; a field it applied before, left out now
 * and owned by no other manager, is removed (Kubernetes "Server-Side Apply": fields a manager
 * stops applying are removed when nobody else owns them). `admit` sees the resulting fields
 * before anything is stored, as an admission webhook does: when it throws, nothing changes.
 */
export function serverSideApply(obj: LiveObject, manager: string, desired: Record<string, unknown>, admit?: (fields: ReadonlyMap<string, unknown>) => void): void {
  const managedFields = obj.managedFields.map((e) => ({ ...e, fields: new Set(e.fields) }));
  const fields = new Map(obj.fields);
  let own = managedFields.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
  if (!own) managedFields.push((own = { manager, operation: 'Apply', fields: new Set() }));
  const want = flatten(desired);
  for (const path of own.fields) {
    const ownedElsewhere = managedFields.some((e) => e !== own && e.fields.has(path));
    if (!want.has(path) && !ownedElsewhere) fields.delete(path);
  }
  for (const entry of managedFields) if (entry !== own) for (const path of want.keys()) entry.fields.delete(path);
  for (const [path, value] of want) fields.set(path, value);
  own.fields = new Set(want.keys());
  admit?.(fields);
  obj.fields = fields;
  obj.managedFields = managedFields;
}

/** One reconcile of Git's `desired` object by kustomize-controller (its dry-run runs `admit` first). */
export function fluxApply(obj: LiveObject, desired: Record<string, unknown>, admit?: (fields: ReadonlyMap<string, unknown>) => void): void {
  const taken = obj.managedFields.filter((e) => !e.subresource && FLUX_TAKEOVER.some((m) => e.manager.startsWith(m.name) && e.operation === m.operation));
  const after: LiveObject = { fields: obj.fields, managedFields: obj.managedFields.map((e) => ({ ...e, fields: new Set(e.fields) })) };
  let own = after.managedFields.find((e) => e.manager === FLUX_CONTROLLER && e.operation === 'Apply' && !e.subresource);
  if (!own) after.managedFields.push((own = { manager: FLUX_CONTROLLER, operation: 'Apply', fields: new Set() }));
  const takenIndexes = new Set(taken.map((e) => obj.managedFields.indexOf(e)));
  for (const [i, entry] of after.managedFields.entries()) if (entry !== own && takenIndexes.has(i)) entry.fields.forEach((f) => own!.fields.add(f));
  after.managedFields = after.managedFields.filter((e, i) => e === own || !takenIndexes.has(i));
  serverSideApply(after, FLUX_CONTROLLER, desired, admit);
  obj.fields = after.fields;
  obj.managedFields = after.managedFields;
}

/** CloudNativePG's bootstrap methods: its validating webhook admits at most one in `spec.bootstrap`. */
const CNPG_BOOTSTRAP_METHODS = ['initdb', 'recovery', 'pg_basebackup'];

/**
 * CloudNativePG's validating webhook rule for `spec.bootstrap` (a Cluster is rejected when more
 * than one method is set). `spec.bootstrap` is no atomic map in its CRD, so server-side apply
 * merges two managers' methods into one object, which this rejects.
 */
export function cnpgBootstrapWebhook(fields: ReadonlyMap<string, unknown>): void {
  const methods = CNPG_BOOTSTRAP_METHODS.filter((m) => [...fields.keys()].some((p) => p === `spec.bootstrap.${m}` || p.startsWith(`spec.bootstrap.${m}.`)));
  if (methods.length > 1) {
    throw new Error(`admission webhook "vcluster.cnpg.io" denied the request: spec.bootstrap: Invalid value: "${methods.join(',')}": Only one bootstrap method can be specified at a time`);
  }
}

/** Creates `desired` as Flux does the first time. */
export function created(desired: Record<string, unknown>): LiveObject {
  const obj: LiveObject = { fields: new Map(), managedFields: [] };
  fluxApply(obj, desired);
  return obj;
}

const DEFAULT_MANAGER: Record<string, string> = { patch: 'kubectl-patch', annotate: 'kubectl-annotate', scale: 'kubectl' };

/**
 * Applies a `kubectl` argv (as packages/failover emits it) to `obj`: `patch … -p <json>`,
 * `annotate … k=v`, `scale … --replicas=n` (the scale subresource), with kubectl's default field
 * manager unless `--field-manager=` names one.
 */
export function kubectl(obj: LiveObject, argv: readonly string[]): void {
  const args = argv[0] === '--context' ? argv.slice(2) : [...argv];
  const verb = args[0]!;
  const managerFlag = args.find((a) => a.startsWith('--field-manager='));
  const manager = managerFlag ? managerFlag.slice('--field-manager='.length) : DEFAULT_MANAGER[verb];
  if (!manager) throw new Error(`model: unsupported kubectl ${verb}`);
  if (verb === 'patch') return update(obj, manager, flatten(JSON.parse(args[args.indexOf('-p') + 1]!)));
  if (verb === 'annotate') {
    const pairs = args.slice(3).filter((a) => /^[^-][^=]*=/.test(a));
    return update(obj, manager, new Map(pairs.map((p) => [`metadata.annotations.${p.slice(0, p.indexOf('='))}`, p.slice(p.indexOf('=') + 1)])));
  }
  const replicas = args.find((a) => a.startsWith('--replicas='))!;
  return update(obj, manager, new Map([['spec.replicas', Number(replicas.slice('--replicas='.length))]]), 'scale');
}
