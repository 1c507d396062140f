import { CommandError } from '@platform/failover';

/** An `aws` reader that answers the promoted-marker read with `value`, or ParameterNotFound (as SSM does) when undefined. */
export function fakeSsm(value: string | undefined) {
  const calls: string[] = [];
  return {
    calls,
    async read(command: string, args: readonly string[]): Promise<string> {
      const call = { command, args };
      calls.push([command, ...args].join(' '));
      if (value === undefined) throw new CommandError(call as never, 254, 'An error occurred (ParameterNotFound) when calling the GetParameter operation');
      return `${value}\n`;
    },
  };
}
