import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without a shell (arguments are never interpolated into a command line). */
export function exec(command: string, args: readonly string[], options: SpawnSyncOptions = {}): ExecResult {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  return { code: result.status ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** Like exec, but throws with the command's output when it fails. */
export function execOk(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = exec(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr || result.stdout}`);
  return result.stdout;
}
