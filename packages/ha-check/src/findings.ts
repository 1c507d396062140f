export type Severity = 'error' | 'warning' | 'info';

/** One thing wrong (or worth knowing), with a stable id the docs list and a one-line fix. */
export interface Finding {
  readonly id: string;
  readonly severity: Severity;
  /** What it is about: a subnet, ASG, workload (`Deployment/ns/name`), add-on or the region. */
  readonly subject: string;
  readonly message: string;
  readonly fix: string;
  /** Scenario ids where it bites (`az-loss:<az>`, `region-loss`); empty for static checks. */
  readonly scenarios: readonly string[];
}

/** Collects findings, merging repeats of one id+subject across scenarios. */
export class Findings {
  private readonly byKey = new Map<string, Finding>();

  add(finding: Omit<Finding, 'scenarios'> & { scenarios?: readonly string[] }): void {
    const key = `${finding.id}\u0000${finding.subject}`;
    const existing = this.byKey.get(key);
    const scenarios = [...(existing?.scenarios ?? []), ...(finding.scenarios ?? [])];
    this.byKey.set(key, { ...(existing ?? finding), scenarios: [...new Set(scenarios)].sort() });
  }

  /** Errors first, then warnings, then infos; stable within each. */
  list(): Finding[] {
    const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
    return [...this.byKey.values()].sort((a, b) => rank[a.severity] - rank[b.severity] || a.id.localeCompare(b.id) || a.subject.localeCompare(b.subject));
  }
}
