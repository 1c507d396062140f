import { applyPatch, JsonPatchError, type Operation } from 'fast-json-patch';

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

/**
 * RFC 6902, applied by fast-json-patch (validated, on a copy); only its errors are mapped to the
 * API server's answers (evanphx/json-patch behind it): an unknown op is 400, anything else the
 * patch cannot apply (a missing path or `from`, an index out of bounds, a failed `test`) is 422.
 */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    return applyPatch(structuredClone(target), ops as Operation[], true, true).newDocument;
  } catch (error) {
    if (!(error instanceof JsonPatchError)) throw error;
    const op = error.operation as { op?: string; path?: string; from?: string } | undefined;
    if (error.name === 'OPERATION_OP_INVALID') throw new ApiError(400, 'BadRequest', `Unexpected kind: ${String(op?.op)}`);
    const message: Partial<Record<string, string>> = {
      OPERATION_PATH_UNRESOLVABLE: `doc is missing path: ${op?.path}`,
      OPERATION_FROM_UNRESOLVABLE: `doc is missing from path: ${op?.from}`,
      OPERATION_VALUE_OUT_OF_BOUNDS: `${op?.op} operation: index ${op?.path?.split('/').pop()} out of bounds`,
      TEST_OPERATION_FAILED: `testing value ${op?.path} failed`,
    };
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message[error.name] ?? error.message.split('\n')[0]}`);
  }
}
