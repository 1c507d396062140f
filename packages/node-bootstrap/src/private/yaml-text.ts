import { stringify } from 'yaml';

/**
 * YAML without double quotes, backslash escapes or folded lines: the user data travels as a
 * Terraform string literal (cdktf rejects `"`), and a folded line could split a token.
 */
export function yamlText(value: unknown): string {
  return stringify(value, { singleQuote: true, lineWidth: 0, minContentWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
}

export function yamlDocuments(values: readonly unknown[]): string {
  return values.map(yamlText).join('---\n');
}
