/** One problem in a definition: where, what was there, and what is allowed. */
export interface ConfigIssue {
  /** Dotted path from the definition's root, e.g. `clusters[1].controlPlane.count`. */
  readonly path: string;
  readonly value: unknown;
  readonly expected: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path}: got ${describeValue(issue.value)}; ${issue.expected}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Thrown before anything is written when a definition is wrong. */
export class PlatformConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid platform configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` + issues.map((i) => `  - ${formatIssue(i)}`).join('\n'));
    this.name = 'PlatformConfigError';
  }
}
