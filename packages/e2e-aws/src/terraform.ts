import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The real terraform, one log file per stack and phase. */
export class Terraform {
  constructor(
    readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
  ) {}

  /** Runs terraform in dir; output goes to <logDir>/<stack>-<phase>.log; returns the exit code and stdout. */
  run(stack: string, phase: string, dir: string, args: string[], okCodes: readonly number[] = [0]): { code: number; stdout: string } {
    const result = spawnSync('terraform', [...args, '-no-color'], { cwd: dir, env: this.env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 30 * 60_000 });
    const logFile = join(this.logDir, `${stack}-${phase}.log`);
    writeFileSync(logFile, `$ terraform ${args.join(' ')}\n${result.stdout ?? ''}\n${result.stderr ?? ''}`);
    const code = result.status ?? 1;
    if (!okCodes.includes(code)) throw new Error(`terraform ${args[0]} of ${stack} exited ${code}; see ${logFile}\n${(result.stderr ?? '').slice(-2000)}`);
    return { code, stdout: result.stdout ?? '' };
  }
}
