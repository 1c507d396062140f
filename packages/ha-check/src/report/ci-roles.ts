import type { Report } from '../report-types';

/** Markdown table cells cannot hold pipes or newlines. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;

/**
 * The CI identity stack's roles, one row each: which workflow runs can assume it (and the OIDC
 * subject patterns that say so) and the sensitive requests IAM would allow it. The same facts as
 * the JSON's `ciIdentities`; the finding `ci.pr-can-read-secret` is where a row is judged.
 */
export function ciRolesSection(report: Report): string[] {
  const roles = report.ciIdentities ?? [];
  if (roles.length === 0) return [];
  const out = [
    '#### CI roles',
    '',
    `${roles.length} role(s) of the CI identity stack: who can assume each (its trust policy's \`token.actions.githubusercontent.com:sub\` patterns) and what sensitive access IAM would allow it.`,
    '',
    '| Role | Assumable by | OIDC subjects | Sensitive access | Managed policies not modelled |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of roles) {
    const subjects = r.subjects.length > 0 ? r.subjects.map(code).join(', ') : 'any (no sub condition)';
    out.push(`| ${[code(r.role), r.assumableBy.join(', ') || 'nobody', subjects, r.can.join('; ') || 'none', r.unknownPolicies.join(', ') || '-'].map(cell).join(' | ')} |`);
  }
  if (roles.some((r) => r.assumableBy.some((w) => w.startsWith('environment ')))) {
    out.push('', 'An exact environment keeps other branches out only through its protection rules (required reviewers, deployment branches), which GitHub holds and this Terraform does not show; an environment pattern (`*`, `?`) admits any branch, since a workflow naming a new environment creates it unprotected.');
  }
  out.push('');
  return out;
}
