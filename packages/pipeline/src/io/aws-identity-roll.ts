import type { IdentityRollApi } from '../apply/identity-roll';
import { awsCli, type AwsCli } from './aws-images';

/**
 * The identity-roll gate's EC2 and SSM calls through the AWS CLI in `region`, with the apply job's
 * credentials. GetParametersByPath goes page by page (`--max-items` / `--starting-token`, the CLI's
 * NextToken): the gate follows the token itself, as it would with the API. DescribeInstances: the
 * CLI follows its pages itself.
 */
export function awsCliIdentityRoll(region: string, aws: AwsCli = awsCli): IdentityRollApi {
  const call = async <T>(...args: string[]) => JSON.parse(await aws([...args, '--region', region, '--output', 'json'])) as T;
  return {
    async describeInstances(filters) {
      const out = await call<{ Reservations?: { Instances?: { InstanceId: string; State: { Name: string } }[] }[] }>(
        'ec2',
        'describe-instances',
        '--filters',
        ...filters.map((f) => `Name=${f.Name},Values=${f.Values.join(',')}`),
      );
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => ({ InstanceId: i.InstanceId, State: { Name: i.State.Name } }));
    },
    async getParametersByPath(request) {
      const out = await call<{ Parameters?: { Name: string; Value: string; LastModifiedDate?: string }[]; NextToken?: string }>(
        'ssm',
        'get-parameters-by-path',
        '--path',
        request.Path,
        request.Recursive ? '--recursive' : '--no-recursive',
        // --page-size is the API's MaxResults (at most 10); --max-items stops the CLI after one page's worth.
        '--page-size',
        String(request.MaxResults),
        '--max-items',
        String(request.MaxResults),
        ...(request.NextToken ? ['--starting-token', request.NextToken] : []),
      );
      return { Parameters: (out.Parameters ?? []).map((p) => ({ Name: p.Name, Value: p.Value, ...(p.LastModifiedDate ? { LastModifiedDate: p.LastModifiedDate } : {}) })), ...(out.NextToken ? { NextToken: out.NextToken } : {}) };
    },
    async deleteParameter(name) {
      await aws(['ssm', 'delete-parameter', '--name', name, '--region', region]);
    },
  };
}
