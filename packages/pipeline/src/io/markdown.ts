/** Small Markdown helpers shared by PR comments, drift issues and job summaries. */

/** A fenced block whose fence is longer than any backtick run inside the text. */
export function fenced(text: string, info = 'text'): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text.replace(/\n+$/, '')}\n${fence}`;
}

export function details(summary: string, body: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

/** Escapes the characters that would break a table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function table(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The first `maxLines` lines that fit in `maxChars`, and how many lines were kept. */
export function headLines(text: string, maxChars: number): { readonly text: string; readonly kept: number; readonly total: number } {
  const lines = text.replace(/\n+$/, '').split('\n');
  let size = 0;
  let kept = 0;
  while (kept < lines.length && size + lines[kept].length + 1 <= maxChars) size += lines[kept++].length + 1;
  return { text: lines.slice(0, kept).join('\n'), kept, total: lines.length };
}
