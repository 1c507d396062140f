/*
 * Linux policy routing as the kernel applies it to a packet a local process sends (or a reply it
 * sends): the rules in ascending priority, the first whose selectors match names the table; the
 * kernel's own rules are `0: lookup local`, `32766: lookup main`, `32767: lookup default`; the
 * `local` table holds the node's own addresses (anything else there falls through to the next
 * rule). The rules and tables here come from systemd-networkd `.network` files as networkd would
 * install them ([RoutingPolicyRule] From=/To=/Table=/Priority=, [Route] Table=).
 */

export interface PolicyRule {
  readonly priority: number;
  readonly from?: string;
  readonly to?: string;
  readonly table: string;
}

/** The sections of a systemd `.network` file, in order (a section name may repeat). */
export function networkSections(text: string): { name: string; keys: Record<string, string> }[] {
  const sections: { name: string; keys: Record<string, string> }[] = [];
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) sections.push({ name: header[1], keys: {} });
    else if (line.includes('=') && sections.length > 0) {
      const at = line.indexOf('=');
      sections[sections.length - 1].keys[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  return sections;
}

export function networkdRules(text: string): PolicyRule[] {
  return networkSections(text)
    .filter((s) => s.name === 'RoutingPolicyRule')
    .map((s) => ({ priority: Number(s.keys.Priority), from: s.keys.From, to: s.keys.To, table: s.keys.Table ?? 'main' }));
}

const toInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
export function inPrefix(ip: string, prefix: string): boolean {
  const [base, bits] = prefix.split('/');
  const size = 2 ** (32 - Number(bits ?? 32));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

/** The table the kernel consults for a packet from `source` to `destination` on a node whose own addresses are `local`. */
export function routingTable(rules: readonly PolicyRule[], local: readonly string[], source: string, destination: string): string {
  const all = [...rules, { priority: 0, table: 'local' }, { priority: 32766, table: 'main' }, { priority: 32767, table: 'default' }].sort((a, b) => a.priority - b.priority);
  for (const rule of all) {
    if (rule.from && !inPrefix(source, rule.from)) continue;
    if (rule.to && !inPrefix(destination, rule.to)) continue;
    if (rule.table === 'local' && !local.includes(destination)) continue;
    return rule.table;
  }
  throw new Error(`no rule for ${source} -> ${destination}`);
}
