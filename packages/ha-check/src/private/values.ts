/** Readers for Terraform values that may be a block object (cdk.tf.json) or a one-item list (plan JSON). */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function block(value: unknown): Json | undefined {
  if (Array.isArray(value)) return isObject(value[0]) ? value[0] : undefined;
  return isObject(value) ? value : undefined;
}

export function blocks(value: unknown): Json[] {
  if (Array.isArray(value)) return value.filter(isObject);
  return isObject(value) ? [value] : [];
}

export function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Numbers may arrive as strings from CDKTF tokens that were literal after all. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

export function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** `tags` map, or ASG `tag` blocks ({ key, value }). */
export function tagsOf(values: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of [values.tags, values.tags_all]) {
    if (isObject(source)) for (const [k, v] of Object.entries(source)) if (typeof v === 'string') out[k] = v;
  }
  for (const tag of blocks(values.tag)) {
    if (typeof tag.key === 'string') out[tag.key] = typeof tag.value === 'string' ? tag.value : String(tag.value ?? '');
  }
  return out;
}
