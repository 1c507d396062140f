/** The values after `--name` in an AWS CLI argument list, up to the next option. */
export function cliOption(args: readonly string[], name: string): string[] {
  const at = args.indexOf(name);
  if (at < 0) return [];
  const values: string[] = [];
  for (let i = at + 1; i < args.length && !args[i]!.startsWith('--'); i++) values.push(args[i]!);
  return values;
}
