export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** `range` minus the given ports, as the fewest contiguous ranges, in order. */
export function portRangesWithout(range: PortRange, excluded: readonly number[]): PortRange[] {
  const ranges: PortRange[] = [];
  let from = range.from;
  for (const port of [...new Set(excluded)].filter((p) => p >= range.from && p <= range.to).sort((a, b) => a - b)) {
    if (port > from) ranges.push({ from, to: port - 1 });
    from = port + 1;
  }
  if (from <= range.to) ranges.push({ from, to: range.to });
  return ranges;
}
