import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Platform } from '@platform/platform-config';
import { offlineUnavailableReason, type TerraformMode } from '../io/terraform';
import { UsageError } from './command';

/** node:util parseArgs, with an unknown option as a UsageError (exit 2). */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A JSON array of names, as `pipeline:stacks` writes it. */
export function nameList(option: string, json: string): string[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw new UsageError(`${option} ${json}: expected a JSON array of stack names, e.g. ["ci-identity"]`);
  return list;
}

/** Names that must each be a cluster of the platform. */
export function clusterNames(platform: Platform, option: string, list: readonly string[]): string[] {
  const unknown = list.filter((c) => !platform.clusters.some((k) => k.name === c));
  if (unknown.length > 0) throw new UsageError(`${option} ${JSON.stringify(list)}: ${unknown.join(', ')} is no cluster; expected some of ${platform.clusters.map((c) => c.name).join(', ')}`);
  return [...list];
}

export function terraformMode(value: string | undefined): TerraformMode {
  const m = value ?? 'offline';
  if (m !== 'offline' && m !== 'cloud') throw new UsageError(`--mode ${m}: expected offline or cloud`);
  return m;
}

/** Offline plans need the provider mirror: say why they are impossible here. */
export function assertOfflinePossible(mode: TerraformMode, mirror: string | null): void {
  if (mode !== 'offline') return;
  const reason = offlineUnavailableReason(mirror);
  if (reason) throw new Error(`SKIPPED: offline terraform plan impossible here: ${reason}`);
}
