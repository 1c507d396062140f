const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity (`250m`, `1.5`, `512Mi`, `1G`, `1e3`) as a plain number, or undefined. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return undefined;
  const factor = BINARY[match[2]] ?? DECIMAL[match[2]];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

export function cpuMilli(value: unknown): number {
  const cores = parseQuantity(value);
  return cores === undefined ? 0 : Math.ceil(cores * 1000);
}

export function memoryMiB(value: unknown): number {
  const bytes = parseQuantity(value);
  return bytes === undefined ? 0 : Math.ceil(bytes / 2 ** 20);
}
