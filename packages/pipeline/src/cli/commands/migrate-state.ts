import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUPPORTED_REGIONS } from '@platform/platform-config';
import { migrateStackState, type StateLocation, type StateMigrationResult } from '../../operations/state-migration';
import { orderedStacks } from '../../pull-request/pr-flow';
import type { TerraformRunner } from '../../io/terraform';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface MigrateStateOptions {
  readonly from: StateLocation;
  /** Empty: every synthesized stack, in apply order. */
  readonly stacks: readonly string[];
}

const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function resultRow(r: StateMigrationResult): string {
  if (r.action === 'no-state') return `| ${r.stack} | no state at the old place: nothing copied | |`;
  return `| ${r.stack} | ${r.action === 'migrated' ? 'migrated' : 'already migrated (the target holds the same resources and outputs)'} | serial ${r.state.serial}, ${r.state.resources} resources, content ${r.state.digest.slice(0, 12)} |`;
}

/**
 * `migrate-state --from-bucket <old> --from-region <old>`: moves every stack's state to the
 * bucket and region its committed backend block names (platform-config `settings.state`),
 * one `terraform init -migrate-state` per stack, in apply order; stops at the first failure.
 * Reruns are safe: a stack whose target already holds its history is left alone.
 */
export function migrateStateCommand(runner?: TerraformRunner): Command<MigrateStateOptions> {
  return {
    description: "move every stack's state from an old bucket/region to settings.state (terraform init -migrate-state)",
    parse(args) {
      const v = parseOptions(args, { 'from-bucket': { type: 'string' }, 'from-region': { type: 'string' }, stack: { type: 'string', multiple: true } });
      const bucket = v['from-bucket'];
      const region = v['from-region'];
      if (!bucket || !region) throw new UsageError('--from-bucket <old state bucket> and --from-region <its region> are required');
      if (!S3_BUCKET_NAME.test(bucket)) throw new UsageError(`--from-bucket ${bucket}: expected an S3 bucket name`);
      if (!SUPPORTED_REGIONS.includes(region)) throw new UsageError(`--from-region ${region}: expected one of ${SUPPORTED_REGIONS.join(', ')}`);
      return { from: { bucket, region }, stacks: v.stack ?? [] };
    },
    async run(options, { platform, paths, actions, log }) {
      if (!existsSync(paths.stacksDir)) throw new Error(`${paths.stacksDir} does not exist: run npm run synth first`);
      const all = orderedStacks(paths, platform);
      const unknown = options.stacks.filter((s) => !all.includes(s));
      if (unknown.length > 0) throw new UsageError(`--stack ${unknown.join(', ')}: expected some of ${all.join(', ')}`);
      const stacks = options.stacks.length > 0 ? all.filter((s) => options.stacks.includes(s)) : all;
      const scratch = mkdtempSync(join(tmpdir(), 'pipeline-migrate-state-'));
      const results: StateMigrationResult[] = [];
      let failure: string | undefined;
      try {
        for (const stack of stacks) {
          log(`${stack}: s3://${options.from.bucket} (${options.from.region}) → s3://${platform.names.stateBucket} (${platform.settings.state.region})`);
          try {
            const result = migrateStackState({ stack, stackDir: join(paths.stacksDir, stack), from: options.from, scratchDir: scratch, runner });
            results.push(result);
            log(`${stack}: ${result.action}`);
          } catch (error) {
            failure = (error as Error).message;
            break;
          }
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      const rest = stacks.slice(results.length + (failure ? 1 : 0));
      const table = [
          `### State migration to s3://${platform.names.stateBucket} (${platform.settings.state.region})`,
          '',
          '| stack | result | state |',
          '| --- | --- | --- |',
          ...results.map(resultRow),
          ...(failure ? [`| ${stacks[results.length]} | ❌ ${failure.split('\n')[0]} | |`] : []),
          ...rest.map((s) => `| ${s} | ⏭️ not attempted | |`),
          '',
        ].join('\n');
      // A person runs this with administrator credentials, outside Actions: the table goes to the terminal too.
      console.log(table);
      actions.summary(table);
      if (failure) {
        console.error(failure);
        return 1;
      }
      return 0;
    },
  };
}
