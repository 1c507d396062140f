/** The patch formats the API server accepts, with its answers for bad ones (thrown as ApiError). */
export type Obj = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
  ) {
    super(message);
  }
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386: objects merge, null deletes, anything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Strategic merge patch, for built-in kinds only: maps merge as in a merge patch; lists whose
 * items carry `name` (containers, env, ports, volumes: the patch merge key of every list kubectl
 * sends here) merge by name, other lists replace; `$patch: delete` removes an item, and the
 * ordering directives kubectl adds (`$setElementOrder/…`, `$retainKeys`) are honoured as no-ops.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const key = k.slice('$deleteFromPrimitiveList/'.length);
      out[key] = ((out[key] as unknown[]) ?? []).filter((x) => !(v as unknown[]).includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v) && Array.isArray(out[k]) && v.every((i) => isObj(i) && typeof i.name === 'string')) {
      const merged = [...(out[k] as Obj[])];
      for (const item of v as Obj[]) {
        const at = merged.findIndex((m) => isObj(m) && m.name === item.name);
        const next = strategicMergePatch(at >= 0 ? merged[at] : undefined, item) as Obj | undefined;
        if (at >= 0 && next === undefined) merged.splice(at, 1);
        else if (at >= 0) merged[at] = next!;
        else if (next !== undefined) merged.push(next);
      }
      out[k] = merged;
    } else out[k] = strategicMergePatch(out[k], v);
  }
  return out;
}

const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: invalid JSON pointer ${JSON.stringify(path)}`);
  return path.slice(1).split('/').map(unescape);
}

/** RFC 6902 add/remove/replace/move/copy/test; a path that does not exist is refused (422), as the API server does. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  const fail = (msg: string): never => {
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
  };
  const parentOf = (parts: string[]): [unknown, string] => {
    let cur: unknown = doc;
    for (const p of parts.slice(0, -1)) {
      cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
      if (cur === undefined) fail(`doc is missing path: /${parts.join('/')}`);
    }
    return [cur, parts[parts.length - 1]!];
  };
  const get = (parts: string[]): unknown => {
    let cur: unknown = doc;
    for (const p of parts) {
      cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
      if (cur === undefined) fail(`doc is missing path: /${parts.join('/')}`);
    }
    return cur;
  };
  const remove = (parts: string[]): unknown => {
    const [parent, key] = parentOf(parts);
    const value = get(parts);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Obj)[key];
    return value;
  };
  const add = (parts: string[], value: unknown) => {
    if (parts.length === 0) return void (doc = value);
    const [parent, key] = parentOf(parts);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!(i >= 0 && i <= parent.length)) fail(`add operation: index ${key} out of bounds`);
      parent.splice(i, 0, value);
    } else if (isObj(parent)) parent[key] = value;
    else fail(`doc is missing path: /${parts.join('/')}`);
  };
  for (const raw of ops) {
    const op = raw as { op?: string; path?: string; from?: string; value?: unknown };
    if (typeof op.path !== 'string') fail('missing path');
    const parts = pointer(op.path!);
    switch (op.op) {
      case 'add':
        add(parts, structuredClone(op.value));
        break;
      case 'remove':
        remove(parts);
        break;
      case 'replace':
        get(parts);
        remove(parts);
        add(parts, structuredClone(op.value));
        break;
      case 'move':
        add(parts, remove(pointer(op.from ?? '')));
        break;
      case 'copy':
        add(parts, structuredClone(get(pointer(op.from ?? ''))));
        break;
      case 'test':
        if (JSON.stringify(get(parts)) !== JSON.stringify(op.value)) fail(`testing value /${parts.join('/')} failed`);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}
