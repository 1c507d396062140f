import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dieWithParent } from './moto';

/**
 * A child process run to completion without blocking the event loop (signal handlers stay
 * live); it gets SIGTERM from the kernel if the runner dies first.
 */
export function runChild(file: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  const [command, ...prefix] = [...dieWithParent('TERM'), file];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** The real terraform, one log file per stack and phase. */
export class Terraform {
  constructor(
    readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
  ) {}

  /** Runs terraform in dir; output goes to <logDir>/<stack>-<phase>.log; returns the exit code and stdout. */
  async run(stack: string, phase: string, dir: string, args: string[], okCodes: readonly number[] = [0]): Promise<{ code: number; stdout: string }> {
    const result = await runChild('terraform', [...args, '-no-color'], { cwd: dir, env: this.env });
    const logFile = join(this.logDir, `${stack}-${phase}.log`);
    writeFileSync(logFile, `$ terraform ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
    if (!okCodes.includes(result.code)) throw new Error(`terraform ${args[0]} of ${stack} exited ${result.code}; see ${logFile}\n${result.stderr.slice(-2000)}`);
    return { code: result.code, stdout: result.stdout };
  }
}
