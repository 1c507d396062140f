import type { Report } from '../report-types';

/** The report as JSON (schema: docs/ha-check.md, packages/ha-check/schema/report.schema.json). */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
