import { prGateProblems, type GateNeed } from '../../pull-request/pr-gate';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface PrGateOptions {
  readonly needs: Readonly<Record<string, GateNeed>>;
  readonly sameRepository: boolean;
}

/** `pr-gate`: exit 1 when a job the pull request needs failed, was cancelled or was skipped without reason. */
export const prGate: Command<PrGateOptions> = {
  description: 'the required status check: fails unless every pull-request job passed or was legitimately skipped (NEEDS = toJSON(needs))',
  parse(args) {
    const v = parseOptions(args, { 'same-repository': { type: 'string' } });
    if (v['same-repository'] !== 'true' && v['same-repository'] !== 'false') throw new UsageError(`--same-repository: got ${JSON.stringify(v['same-repository'])}; expected true or false`);
    const raw = process.env.NEEDS;
    if (!raw) throw new UsageError('NEEDS: not set; expected the JSON of ${{ toJSON(needs) }}');
    let needs: unknown;
    try {
      needs = JSON.parse(raw);
    } catch {
      throw new UsageError('NEEDS: not JSON; expected the JSON of ${{ toJSON(needs) }}');
    }
    if (needs === null || typeof needs !== 'object' || Array.isArray(needs)) throw new UsageError('NEEDS: not an object; expected the JSON of ${{ toJSON(needs) }}');
    return { needs: needs as Record<string, GateNeed>, sameRepository: v['same-repository'] === 'true' };
  },
  async run({ needs, sameRepository }, { log }) {
    const problems = prGateProblems(needs, { sameRepository });
    for (const problem of problems) console.log(`::error::pr-gate: ${problem}`);
    if (problems.length === 0) log('pr-gate: every check passed or was legitimately skipped');
    return problems.length === 0 ? 0 : 1;
  },
};
