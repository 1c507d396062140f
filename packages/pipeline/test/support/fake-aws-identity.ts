import type { AwsCli } from '../../src/io/aws-images';
import { cliOption } from './cli-options';

/** An instance as EC2 lists it: its ASG's tag and its state (`pending`, `running`, `stopped`, `shutting-down`, `terminated`, …). */
export interface FakeInstance {
  readonly id: string;
  readonly group: string;
  state: string;
}

const failure = (args: readonly string[], code: string, message: string) => new Error(`aws ${args.join(' ')} failed (exit 254): An error occurred (${code}) when calling the operation: ${message}`);

/**
 * The `aws` CLI for the identity-roll gate, as EC2 and SSM document the calls:
 * - `ec2 describe-instances --filters Name=…,Values=a,b`: the values of one filter OR, several filters
 *   AND; `tag:<key>` matches the tag's value, `instance-state-name` the state; terminated instances stay
 *   listed (until `forget`, as EC2 drops them after about an hour).
 * - `ssm put-parameter`: ParameterAlreadyExists without `--overwrite` when the name exists; with it
 *   the value is replaced and the version goes up.
 * - `ssm get-parameters-by-path --path P`: only names directly under P unless `--recursive`; the API's
 *   MaxResults (`--page-size`) at most 10 (ValidationException above); a page holds at most that many,
 *   and with `shortPages` fewer (even none) while a NextToken says more follow, as SSM's
 *   best-effort pages may; `--starting-token` continues from a NextToken.
 * - `ssm delete-parameter`: ParameterNotFound when the name does not exist.
 */
export function fakeAwsIdentity(options: { readonly instances: FakeInstance[]; readonly shortPages?: boolean; readonly clock?: { now: number } }) {
  const clock = options.clock ?? { now: Date.parse('2026-12-05T10:00:00Z') };
  const parameters = new Map<string, { value: string; version: number; modified: number }>();
  const calls: string[] = [];
  const aws: AwsCli = async (args) => {
    calls.push(args.join(' '));
    const one = (name: string) => cliOption(args, name)[0];
    if (args[0] === 'ec2' && args[1] === 'describe-instances') {
      const filters = cliOption(args, '--filters').map((f) => {
        const m = /^Name=([^,]+),Values=(.*)$/.exec(f);
        if (!m) throw failure(args, 'InvalidParameterValue', `filter ${f}`);
        return { name: m[1]!, values: m[2]!.split(',') };
      });
      const matches = (i: FakeInstance) =>
        filters.every((f) => {
          if (f.name === 'tag:aws:autoscaling:groupName') return f.values.includes(i.group);
          if (f.name === 'instance-state-name') return f.values.includes(i.state);
          throw failure(args, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
        });
      const found = options.instances.filter(matches);
      // One reservation per launch, as the ASG launches them.
      return JSON.stringify({ Reservations: found.map((i) => ({ Instances: [{ InstanceId: i.id, State: { Name: i.state } }] })) });
    }
    if (args[0] === 'ssm' && args[1] === 'put-parameter') {
      const name = one('--name')!;
      const existing = parameters.get(name);
      if (existing && !args.includes('--overwrite')) throw failure(args, 'ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
      parameters.set(name, { value: one('--value')!, version: (existing?.version ?? 0) + 1, modified: clock.now });
      return JSON.stringify({ Version: parameters.get(name)!.version, Tier: 'Standard' });
    }
    if (args[0] === 'ssm' && args[1] === 'get-parameters-by-path') {
      const path = one('--path')!;
      if (!path.startsWith('/')) throw failure(args, 'ValidationException', 'path must start with /');
      const pageSize = Number(one('--page-size') ?? 10);
      if (pageSize > 10) throw failure(args, 'ValidationException', `1 validation error detected: Value '${pageSize}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`);
      const maxItems = Number(one('--max-items') ?? Infinity);
      const recursive = args.includes('--recursive');
      const under = [...parameters.keys()].filter((n) => n.startsWith(`${path}/`) && (recursive || !n.slice(path.length + 1).includes('/'))).sort();
      const token = one('--starting-token');
      const [start, pageNo] = token ? Buffer.from(token, 'base64').toString().split(',').map(Number) as [number, number] : [0, 0];
      // Best effort: with shortPages the first page is empty and the next ones hold 1–3 names.
      const take = Math.min(pageSize, maxItems, options.shortPages ? (pageNo === 0 ? 0 : (pageNo % 3) + 1) : Infinity);
      const page = under.slice(start, start + take);
      const next = start + take < under.length ? Buffer.from(`${start + take},${pageNo + 1}`).toString('base64') : undefined;
      // The CLI prints LastModifiedDate as ISO 8601.
      return JSON.stringify({ Parameters: page.map((n) => ({ Name: n, Type: 'String', Value: parameters.get(n)!.value, Version: parameters.get(n)!.version, LastModifiedDate: new Date(parameters.get(n)!.modified).toISOString() })), ...(next ? { NextToken: next } : {}) });
    }
    if (args[0] === 'ssm' && args[1] === 'delete-parameter') {
      const name = one('--name')!;
      if (!parameters.delete(name)) throw failure(args, 'ParameterNotFound', `Parameter ${name} not found.`);
      return '';
    }
    throw new Error(`fake aws: unexpected call ${args.join(' ')}`);
  };
  /** What a node's control-plane.sh writes at the end of its boot (put-parameter --overwrite). */
  const boot = (path: string, id: string, stage: string) => aws(['ssm', 'put-parameter', '--name', `${path}/${id}`, '--type', 'String', '--overwrite', '--value', `stage=${stage} config=${'c'.repeat(64)}`]);
  /** EC2 no longer lists terminated instances after about an hour. */
  const forget = (id: string) => options.instances.splice(options.instances.findIndex((i) => i.id === id), 1);
  return { aws, calls, parameters, boot, forget, clock };
}
