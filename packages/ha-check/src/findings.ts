import { FINDING_CATALOGUE, type FindingId, type SeverityRule } from './finding-catalogue';

export type Severity = 'error' | 'warning' | 'info';

/** One thing wrong (or worth knowing), with a stable id the docs list and a one-line fix. */
export interface Finding {
  readonly id: FindingId;
  readonly severity: Severity;
  /** What it is about: a subnet, ASG, workload (`Deployment/ns/name`), add-on or the region. */
  readonly subject: string;
  readonly message: string;
  readonly fix: string;
  /** Scenario ids where it bites (`az-loss:<az>`, `region-loss`); empty for static checks. */
  readonly scenarios: readonly string[];
}

/** What the catalogue's `az`, `region` and `backups` rules mean for this cluster's objectives. */
export interface SeverityContext {
  readonly az: Severity;
  /** undefined: the cluster neither tolerates a region loss nor belongs to a failover pair (not raised). */
  readonly region: Severity | undefined;
  readonly backups: Severity;
}

export interface AddOptions {
  readonly scenarios?: readonly string[];
  /** Overrides the catalogue's rule where the catalogue says it depends (e.g. above an objective). */
  readonly severity?: Severity;
  /** Fills the fix's `{placeholders}`. */
  readonly vars?: Readonly<Record<string, string | number>>;
}

/** Collects findings, merging repeats of one id+subject across scenarios. */
export class Findings {
  private readonly byKey = new Map<string, Finding>();

  constructor(private readonly context: SeverityContext = { az: 'error', region: 'error', backups: 'error' }) {}

  severityOf(rule: SeverityRule): Severity | undefined {
    return rule === 'az' || rule === 'region' || rule === 'backups' ? this.context[rule] : rule;
  }

  add(id: FindingId, subject: string, message: string, options: AddOptions = {}): void {
    const entry = FINDING_CATALOGUE[id];
    const severity = options.severity ?? this.severityOf(entry.severity);
    if (severity === undefined) return;
    const fix = entry.fix.replace(/\{(\w+)\}/g, (m, k: string) => String(options.vars?.[k] ?? m));
    const key = `${id}\u0000${subject}`;
    const existing = this.byKey.get(key);
    const scenarios = [...(existing?.scenarios ?? []), ...(options.scenarios ?? [])];
    this.byKey.set(key, { ...(existing ?? { id, severity, subject, message, fix }), scenarios: [...new Set(scenarios)].sort() });
  }

  /** Errors first, then warnings, then infos; stable within each. */
  list(): Finding[] {
    const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
    return [...this.byKey.values()].sort((a, b) => rank[a.severity] - rank[b.severity] || a.id.localeCompare(b.id) || a.subject.localeCompare(b.subject));
  }
}
