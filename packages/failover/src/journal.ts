import { commandLine, type Call } from './commands';

export type StepStatus = 'done' | 'failed' | 'not-started';

export interface JournalEntry {
  readonly step: string;
  readonly verifies: string;
  status: StepStatus;
  seconds?: number;
  /** Mutating calls made (or, in a dry run, that would have been made): what is half-done if the step fails. */
  readonly mutations: string[];
  readonly notes: string[];
  error?: string;
}

/**
 * What a run did, step by step, with measured durations: the script's own RTO measurement
 * and, on failure, the list of what is half-done. Written as JSON and Markdown.
 */
export class Journal {
  readonly entries: JournalEntry[];
  /** Budgets a completed run overran (estimated bounds checked against the measured seconds). */
  readonly warnings: string[] = [];
  private current: JournalEntry | undefined;

  constructor(
    readonly title: string,
    steps: readonly { readonly name: string; readonly verifies: string }[],
    readonly dryRun: boolean,
  ) {
    this.entries = steps.map((s) => ({ step: s.name, verifies: s.verifies, status: 'not-started', mutations: [], notes: [] }));
  }

  begin(step: string): void {
    this.current = this.entries.find((e) => e.step === step);
  }

  end(status: 'done' | 'failed', seconds: number, error?: string): void {
    if (!this.current) return;
    this.current.status = status;
    this.current.seconds = seconds;
    if (error) this.current.error = error;
    this.current = undefined;
  }

  note(text: string): void {
    this.current?.notes.push(text);
  }

  recordCall(call: Call): void {
    if (call.mutating) this.current?.mutations.push(commandLine(call));
  }

  get totalSeconds(): number {
    return this.entries.reduce((sum, e) => sum + (e.seconds ?? 0), 0);
  }

  /**
   * Checks the measured seconds against stated budgets: a step over its own, the whole run over
   * the total. Warnings, not failures: the run already happened; the journal must say the
   * estimate did not hold.
   */
  checkBudgets(budgets: { readonly steps?: readonly { readonly step: string; readonly seconds: number; readonly why: string }[]; readonly total?: { readonly seconds: number; readonly why: string } }): void {
    for (const b of budgets.steps ?? []) {
      const e = this.entries.find((x) => x.step === b.step);
      if (e?.seconds !== undefined && e.seconds > b.seconds) this.warnings.push(`${b.step} took ${round(e.seconds)} s, over ${b.seconds} s (${b.why})`);
    }
    if (budgets.total && this.totalSeconds > budgets.total.seconds) this.warnings.push(`the run took ${round(this.totalSeconds)} s, over ${budgets.total.seconds} s (${budgets.total.why})`);
  }

  get failed(): JournalEntry | undefined {
    return this.entries.find((e) => e.status === 'failed');
  }

  toJson(): string {
    return `${JSON.stringify({ title: this.title, dryRun: this.dryRun, totalSeconds: round(this.totalSeconds), warnings: this.warnings, steps: this.entries }, null, 2)}\n`;
  }

  toMarkdown(): string {
    const mark: Record<StepStatus, string> = { done: '✅', failed: '❌', 'not-started': '⏸️' };
    const lines = [
      `## ${this.title}${this.dryRun ? ' (dry run: no mutating call was made)' : ''}`,
      '',
      '| # | step | status | seconds | verifies |',
      '| --- | --- | --- | ---: | --- |',
      ...this.entries.map((e, i) => `| ${i + 1} | ${e.step} | ${mark[e.status]} ${e.status} | ${e.seconds === undefined ? '' : round(e.seconds)} | ${e.verifies} |`),
      '',
      `Measured total: **${round(this.totalSeconds)} s**.`,
      ...(this.warnings.length > 0 ? ['', '### Warnings', ...this.warnings.map((w) => `- WARNING: ${w}`)] : []),
    ];
    const failed = this.failed;
    if (failed) {
      lines.push('', `### Failed at \`${failed.step}\``, '', '```', failed.error ?? '', '```');
      lines.push('', `Half-done (mutations made in the failed step): ${failed.mutations.length === 0 ? 'none' : ''}`, ...failed.mutations.map((m) => `- \`${m}\``));
    }
    for (const e of this.entries.filter((x) => x.notes.length > 0 || x.mutations.length > 0)) {
      lines.push('', `### ${e.step}`, ...e.notes.map((n) => `- ${n}`), ...e.mutations.map((m) => `- ${this.dryRun ? 'would run' : 'ran'}: \`${m}\``));
    }
    return `${lines.join('\n')}\n`;
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
