import type { Ec2Image, ImageCatalog } from '../operations/ami-lock';
import { execOk } from '../private/exec';

/** Runs `aws <args>` and returns its stdout (throws on a non-zero exit). */
export type AwsCli = (args: readonly string[]) => Promise<string>;

export const awsCli: AwsCli = async (args) => execOk('aws', args);

/** SSM and EC2 through the AWS CLI with the job's (read-only) credentials. */
export function awsCliImageCatalog(aws: AwsCli = awsCli): ImageCatalog {
  return {
    async getParameters(region, names) {
      const out = JSON.parse(await aws(['ssm', 'get-parameters', '--names', ...names, '--region', region, '--output', 'json'])) as { Parameters?: { Name: string; Value: string }[]; InvalidParameters?: string[] };
      return { values: Object.fromEntries((out.Parameters ?? []).map((p) => [p.Name, p.Value])), invalid: out.InvalidParameters ?? [] };
    },
    async describeImages(region, imageIds) {
      const out = JSON.parse(await aws(['ec2', 'describe-images', '--image-ids', ...imageIds, '--region', region, '--output', 'json'])) as { Images?: Ec2Image[] };
      return out.Images ?? [];
    },
    async describeOwnImages(region, namePrefix) {
      const out = JSON.parse(await aws(['ec2', 'describe-images', '--owners', 'self', '--filters', `Name=name,Values=${namePrefix}*`, '--region', region, '--output', 'json'])) as { Images?: Ec2Image[] };
      return out.Images ?? [];
    },
  };
}
