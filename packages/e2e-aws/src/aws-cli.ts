import { runChild } from './terraform';

/** The real AWS CLI (from the aws venv) against moto: `aws(...args)` resolves to stdout, rejects with stderr. */
export type AwsCli = (...args: string[]) => Promise<string>;

export function awsCli(env: NodeJS.ProcessEnv, cwd: string): AwsCli {
  return async (...args) => {
    const result = await runChild('aws', args, { cwd, env });
    if (result.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
}
