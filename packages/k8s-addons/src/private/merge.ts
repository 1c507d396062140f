/** Everything optional at every depth: the shape of add-on overrides. Arrays are replaced, not merged. */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> } : T;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep-merges `overrides` into `defaults`; arrays and scalars in overrides replace, `undefined` keeps the default. */
export function deepMerge<T>(defaults: T, overrides: DeepPartial<T> | undefined): T {
  if (overrides === undefined) return defaults;
  if (!isPlainObject(defaults) || !isPlainObject(overrides)) return overrides as T;
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    out[key] = key in defaults ? deepMerge(defaults[key], value as never) : value;
  }
  return out as T;
}
