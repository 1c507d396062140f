import { IDEMPOTENCE_ARTEFACTS, type AttributeChange, type IdempotenceArtefact } from './emulator-gaps';

/** The part of `terraform show -json <plan>` the judge reads. */
export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly type: string;
    readonly mode?: string;
    readonly change: { readonly actions: readonly string[]; readonly before: unknown; readonly after: unknown; readonly after_unknown?: unknown };
  }[];
}

export interface IdempotenceVerdict {
  /** Resources with at least one change no artefact explains (or created / destroyed / replaced). */
  readonly changed: readonly { readonly address: string; readonly actions: string; readonly paths: readonly string[] }[];
  /** Attribute changes explained by an artefact, with the artefact. */
  readonly ignored: readonly { readonly change: AttributeChange; readonly artefact: IdempotenceArtefact }[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The attribute paths whose values differ: objects (nested blocks, maps) key by key, lists of
 * blocks element by element when their lengths match, anything else as one value.
 */
export function attributeChanges(type: string, address: string, before: unknown, after: unknown, afterUnknown: unknown): AttributeChange[] {
  const prior = isObject(before) ? before : {};
  const out: AttributeChange[] = [];
  const walk = (b: unknown, a: unknown, u: unknown, path: string): void => {
    if (u === true) {
      out.push({ type, address, path, before: b, after: undefined, unknownAfter: true, priorState: prior });
      return;
    }
    if (isObject(b) && isObject(a)) {
      for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) walk(b[key], a[key], isObject(u) ? u[key] : undefined, `${path}.${key}`);
      return;
    }
    if (Array.isArray(b) && Array.isArray(a) && b.length === a.length && b.every(isObject) && a.every(isObject)) {
      b.forEach((item, i) => walk(item, a[i], Array.isArray(u) ? u[i] : undefined, `${path}.*`));
      return;
    }
    if (Array.isArray(u) && Array.isArray(a) && (!Array.isArray(b) || b.length === a.length) && u.some((x) => x === true || isObject(x))) {
      // A list with unknown members: compare the known part, report the unknown part.
      a.forEach((item, i) => walk(Array.isArray(b) ? b[i] : undefined, item, u[i], `${path}.*`));
      return;
    }
    if (JSON.stringify(b ?? null) !== JSON.stringify(a ?? null)) out.push({ type, address, path, before: b, after: a, unknownAfter: false, priorState: prior });
  };
  const a = isObject(after) ? after : {};
  const u = isObject(afterUnknown) ? afterUnknown : {};
  for (const key of new Set([...Object.keys(prior), ...Object.keys(a), ...Object.keys(u)])) walk(prior[key], a[key], u[key], key);
  return out;
}

function explains(artefact: IdempotenceArtefact, change: AttributeChange): boolean {
  if (artefact.type !== change.type) return false;
  const pathMatches = artefact.path.endsWith('.') ? change.path.startsWith(artefact.path) : change.path === artefact.path;
  return pathMatches && artefact.matches(change);
}

/** Judges a plan made right after apply: every change must be explained by an artefact. */
export function judgeIdempotence(plan: PlanJson, artefacts: readonly IdempotenceArtefact[] = IDEMPOTENCE_ARTEFACTS): IdempotenceVerdict {
  const changed: { address: string; actions: string; paths: string[] }[] = [];
  const ignored: { change: AttributeChange; artefact: IdempotenceArtefact }[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === 'data') continue;
    const actions = rc.change.actions.join(',');
    if (actions === 'no-op' || actions === 'read') continue;
    if (actions !== 'update') {
      changed.push({ address: rc.address, actions, paths: [] });
      continue;
    }
    const changes = attributeChanges(rc.type, rc.address, rc.change.before, rc.change.after, rc.change.after_unknown);
    // An update whose attributes all compare equal is still a change Terraform would make.
    const unexplained: string[] = changes.length === 0 ? ['(update with no differing attribute)'] : [];
    for (const change of changes) {
      const artefact = artefacts.find((a) => explains(a, change));
      if (artefact) ignored.push({ change, artefact });
      else unexplained.push(change.path);
    }
    if (unexplained.length > 0) changed.push({ address: rc.address, actions, paths: unexplained });
  }
  return { changed, ignored };
}
