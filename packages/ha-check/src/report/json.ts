import type { Report } from '../report-types';

/** The report as JSON; the schema (schemaVersion 2) is documented in docs/ha-check.md. */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
