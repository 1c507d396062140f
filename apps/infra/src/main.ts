import { join } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { defaultPlatform, type Platform } from '@platform/platform-config';
import { replaceDirectoryAtomically, runCli } from '@platform/synth-kit';

// Bootstrap skeleton: aws-cluster constructs replace this body (issue 3).
export const INFRA_OUTDIR = join(__dirname, '..', 'cdktf.out');

export async function synthInfra(outdir: string = INFRA_OUTDIR, platform: Platform = defaultPlatform()): Promise<void> {
  await replaceDirectoryAtomically(outdir, (staging) => {
    const app = new App({ outdir: staging, skipValidation: false });
    for (const cluster of platform.clusters) {
      const stack = new TerraformStack(app, platform.namesOf(cluster).stack);
      new AwsProvider(stack, 'aws', { region: cluster.region });
      new Vpc(stack, 'vpc', { cidrBlock: cluster.vpcCidr });
    }
    app.synth();
  });
}

if (require.main === module) runCli('infra', () => synthInfra());
