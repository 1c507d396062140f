import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsCliFis } from '../../io/aws-fis';
import { stackOutputs } from '../../io/terraform';
import { runGameDay, type FisClient, type GameDayOptions } from '../../operations/game-day';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface GameDayCommandOptions {
  readonly cluster: string;
  readonly az: string;
  readonly maxMinutes: number;
  readonly intervalMs: number;
}

function positive(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option} ${value}: expected a positive number`);
  return n;
}

export interface GameDayDeps {
  /** @default FIS through the AWS CLI in the cluster's region */
  readonly fis?: FisClient;
  /** @default `terraform output -json` of the cluster's stack */
  readonly outputs?: Record<string, unknown>;
  /** @default insecureHttpsProbe of each endpoint */
  readonly probeOf?: GameDayOptions['probeOf'];
  /** @default 15000 */
  readonly statePollMs?: number;
}

/** FIS AZ failure with availability probes; report in the job summary. Exit 1 unless FIS completed. */
export function gameDayCommand(deps: GameDayDeps = {}): Command<GameDayCommandOptions> {
  return {
    description: "start the cluster's FIS AZ-failure experiment and probe the API and app until it ends",
    parse(args) {
      const v = parseOptions(args, { cluster: { type: 'string' }, az: { type: 'string' }, 'max-minutes': { type: 'string' }, 'interval-ms': { type: 'string' } });
      if (!v.cluster || !v.az) throw new UsageError('--cluster <name> and --az <zone> are required');
      return { cluster: v.cluster, az: v.az, maxMinutes: positive('--max-minutes', v['max-minutes'], 30), intervalMs: positive('--interval-ms', v['interval-ms'], 2000) };
    },
    async run(options, { platform, paths, actions, log }) {
      const outputs = deps.outputs ?? stackOutputs(join(paths.stacksDir, platform.namesOf(options.cluster).stack));
      const fis = deps.fis ?? awsCliFis(platform.cluster(options.cluster).region);
      const result = await runGameDay({ platform, cluster: options.cluster, az: options.az, outputs, fis, intervalMs: options.intervalMs, maxMinutes: options.maxMinutes, probeOf: deps.probeOf, statePollMs: deps.statePollMs, log });
      actions.summary(result.markdown);
      mkdirSync(paths.outDir, { recursive: true });
      writeFileSync(join(paths.outDir, `game-day-${options.cluster}.json`), JSON.stringify(result.reports, null, 2));
      console.log(result.markdown);
      return result.ok ? 0 : 1;
    },
  };
}
