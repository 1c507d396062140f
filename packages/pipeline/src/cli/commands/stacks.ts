import { selectStacks, type StackSelection } from '../../pull-request/select-stacks';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

/** Affected stacks (or all) in dependency order, as JSON for a workflow matrix (see select-stacks.ts). */
export const stacks: Command<StackSelection> = {
  description: 'affected stacks as a JSON array (stdout and step outputs stacks, any, clusters, any_clusters)',
  parse(args) {
    const v = parseOptions(args, { base: { type: 'string' }, all: { type: 'boolean' }, 'since-applied': { type: 'boolean' } });
    if ([v.base !== undefined, v.all, v['since-applied']].filter(Boolean).length > 1) throw new UsageError('--base <ref>, --all and --since-applied exclude each other');
    if (v.all) return { kind: 'all' };
    if (v['since-applied']) return { kind: 'since-applied' };
    return { kind: 'base', base: v.base ?? 'origin/main' };
  },
  async run(selection, { platform, paths, actions }) {
    const selected = selectStacks(paths, platform, selection, (line) => console.error(`pipeline: ${line}`));
    const json = JSON.stringify(selected.stacks);
    console.log(json);
    if (selected.manifestOnlyClusters.length > 0) console.error(`pipeline: manifest-only clusters: ${selected.manifestOnlyClusters.join(', ')}`);
    actions.output('stacks', json);
    actions.output('any', selected.stacks.length > 0 ? 'true' : 'false');
    actions.output('clusters', JSON.stringify(selected.manifestOnlyClusters));
    actions.output('any_clusters', selected.manifestOnlyClusters.length > 0 ? 'true' : 'false');
    return 0;
  },
};
