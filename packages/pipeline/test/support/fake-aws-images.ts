import type { AwsCli } from '../../src/io/aws-images';
import type { Ec2Image } from '../../src/operations/ami-lock';
import { cliOption } from './cli-options';

/** One region's public SSM parameters (name → value) and its images (AMIs are regional). */
export interface FakeRegion {
  parameters: Record<string, string>;
  readonly images: Ec2Image[];
}

/** The caller's account in the fake: `--owners self` means images it owns. */
export const FAKE_ACCOUNT = '123456789012';

/**
 * The `aws` CLI for `ssm get-parameters` and `ec2 describe-images --image-ids`, as the services
 * document them: get-parameters lists names it does not have under InvalidParameters (no error) and
 * takes at most 10 names; describe-images fails the whole call with InvalidAMIID.NotFound when any
 * id is unknown in the region, and returns the images in no particular order (here: newest first,
 * never the order asked).
 */
export function fakeAwsImages(regions: Record<string, FakeRegion>): AwsCli & { readonly calls: string[] } {
  const calls: string[] = [];
  const aws = async (args: readonly string[]): Promise<string> => {
    calls.push(args.join(' '));
    const [region] = cliOption(args, '--region');
    const r = regions[region ?? ''] ?? { parameters: {}, images: [] };
    if (args[0] === 'ssm' && args[1] === 'get-parameters') {
      const names = cliOption(args, '--names');
      if (names.length > 10) throw new Error('aws ssm get-parameters failed (exit 254): An error occurred (ValidationException): Member must have length less than or equal to 10');
      return JSON.stringify({
        Parameters: names.filter((n) => n in r.parameters).map((n) => ({ Name: n, Type: 'String', Value: r.parameters[n], Version: 7, DataType: 'aws:ec2:image' })),
        InvalidParameters: names.filter((n) => !(n in r.parameters)),
      });
    }
    if (args[0] === 'ec2' && args[1] === 'describe-images' && cliOption(args, '--owners')[0] === 'self') {
      // --filters Name=name,Values=<glob>: EC2 matches the whole name, * any run of characters.
      const [filter] = cliOption(args, '--filters');
      const glob = /^Name=name,Values=(.*)$/.exec(filter ?? '')?.[1] ?? '*';
      const pattern = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      return JSON.stringify({ Images: r.images.filter((i) => i.OwnerId === FAKE_ACCOUNT && pattern.test(i.Name)) });
    }
    if (args[0] === 'ec2' && args[1] === 'describe-images') {
      const ids = cliOption(args, '--image-ids');
      const unknown = ids.filter((id) => !r.images.some((i) => i.ImageId === id));
      if (unknown.length > 0) throw new Error(`aws ec2 describe-images failed (exit 254): An error occurred (InvalidAMIID.NotFound) when calling the DescribeImages operation: The image id '[${unknown.join(', ')}]' does not exist`);
      const found = r.images.filter((i) => ids.includes(i.ImageId)).sort((a, b) => b.CreationDate.localeCompare(a.CreationDate));
      return JSON.stringify({ Images: found });
    }
    throw new Error(`fake aws: unexpected call ${args.join(' ')}`);
  };
  return Object.assign(aws, { calls });
}
