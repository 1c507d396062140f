import { Fn } from 'cdktf';

// cdktf encodes an unresolved token inside a string as this marker.
const TOKEN_MARKER = /(\$\{TfToken\[[^\]]+\]\})/;

/**
 * Text that may hold Terraform tokens (e.g. the NLB DNS name) turned into one Terraform
 * string expression. Literal parts are escaped so shell `${VAR}`, `%{` and backslashes in
 * cloud-init scripts reach the instance unchanged instead of being read as Terraform
 * interpolation; the tokens stay references.
 */
export function terraformString(text: string): string {
  const parts = text.split(TOKEN_MARKER);
  if (parts.length === 1) return Fn.rawString(escapeLiteral(text));
  return Fn.join(
    '',
    parts.map((part, i) => (i % 2 === 1 ? part : Fn.rawString(escapeLiteral(part)))),
  );
}

function escapeLiteral(text: string): string {
  // Fn.rawString escapes quotes, newlines and `${`, but neither backslashes nor `%{`.
  return text.replace(/\\/g, '\\\\').replace(/%\{/g, '%%{');
}

/** cloud-init user-data for a launch template: gzip + base64 in Terraform, after tokens resolve. */
export function launchTemplateUserData(cloudConfig: string): string {
  return Fn.base64gzip(terraformString(cloudConfig));
}
