import { execFile } from 'node:child_process';

/** The two CLIs every external call goes through, so tests can put recording fakes on PATH. */
export type Tool = 'aws' | 'kubectl';

/** One call as the operator would type it; kept in the journal for read-back and undo. */
export interface Call {
  readonly tool: Tool;
  readonly args: readonly string[];
  readonly mutating: boolean;
}

export function commandLine(call: Pick<Call, 'tool' | 'args'>): string {
  return shellWords([call.tool, ...call.args]);
}

/** Words as a POSIX shell reads them back: plain when safe, else single-quoted. */
export function shellWords(words: readonly string[]): string {
  return words.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export class CommandError extends Error {
  constructor(
    readonly call: Call,
    readonly exitCode: number | string,
    readonly stderr: string,
  ) {
    super(`${commandLine(call)} failed (exit ${exitCode}): ${stderr.trim() || '(no stderr)'}`);
    this.name = 'CommandError';
  }
}

export interface CommandsProps {
  /** Mutating calls are printed, not run. */
  readonly dryRun: boolean;
  /** Called for every call, run or not (the journal records mutations). */
  readonly onCall?: (call: Call, executed: boolean) => void;
  /** Per-call limit; waits that take longer use the CLI's own --timeout. @default 1_800_000 */
  readonly timeoutMs?: number;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs `aws` / `kubectl` as child processes. `read` always runs; `mutate` is skipped in a
 * dry run so a rehearsal can never change anything.
 */
export class Commands {
  constructor(private readonly props: CommandsProps) {}

  get dryRun(): boolean {
    return this.props.dryRun;
  }

  read(tool: Tool, args: readonly string[]): Promise<string> {
    return this.exec({ tool, args, mutating: false });
  }

  async readJson<T>(tool: Tool, args: readonly string[]): Promise<T> {
    const out = await this.read(tool, args);
    try {
      return JSON.parse(out) as T;
    } catch {
      throw new Error(`${commandLine({ tool, args })} did not print JSON: ${out.slice(0, 200)}`);
    }
  }

  /** Returns undefined in a dry run. */
  async mutate(tool: Tool, args: readonly string[]): Promise<string | undefined> {
    const call = { tool, args, mutating: true };
    if (this.props.dryRun) {
      this.props.onCall?.(call, false);
      return undefined;
    }
    return this.exec(call);
  }

  private exec(call: Call): Promise<string> {
    this.props.onCall?.(call, true);
    return new Promise((resolve, reject) => {
      execFile(
        call.tool,
        [...call.args],
        { env: this.props.env ?? process.env, timeout: this.props.timeoutMs ?? 1_800_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new CommandError(call, (error as NodeJS.ErrnoException & { code?: number | string }).code ?? 'unknown', String(stderr)));
          else resolve(String(stdout));
        },
      );
    });
  }
}
