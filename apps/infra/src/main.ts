import { join } from 'node:path';
import { CiIdentityStack, ClusterStack, NodeImageStack, StateBackend } from '@platform/aws-cluster';
import { bakedImageRegions, defaultPlatform, loadPlatform, nodeImageStackName, type Platform, type PlatformInput } from '@platform/platform-config';
import { replaceDirectoryAtomically, runCli } from '@platform/synth-kit';
import { App } from 'cdktf';

export const INFRA_OUTDIR = join(__dirname, '..', 'cdktf.out');

export interface SynthInfraOptions {
  /**
   * `s3` (the committed stacks) or `local` (state file in the working directory: experiments).
   * @default 's3'
   */
  readonly backend?: 's3' | 'local';
}

/** Every stack: one per cluster (`<name>-cluster`), the account-level CI identity, and `node-image-<region>` where a cluster bakes its image. */
export function buildInfraApp(app: App, platform: Platform, options: SynthInfraOptions = {}): void {
  const local = options.backend === 'local';
  for (const cluster of platform.clusters) {
    new ClusterStack(app, platform.namesOf(cluster).stack, { platform, cluster, backend: local ? StateBackend.local() : undefined });
  }
  new CiIdentityStack(app, platform.names.ciIdentityStack, { platform, backend: local ? StateBackend.local() : undefined });
  // One image pipeline stack per region where a cluster opts into NodeImage.baked().
  for (const region of bakedImageRegions(platform.clusters).keys()) {
    new NodeImageStack(app, nodeImageStackName(region), { platform, region, backend: local ? StateBackend.local() : undefined });
  }
}

/**
 * Writes apps/infra/cdktf.out/stacks/<stack>/cdk.tf.json for every stack. The platform is
 * validated first (a raw input throws PlatformConfigError) and the output folder is only
 * swapped in when everything synthesized.
 */
export async function synthInfra(outdir: string = INFRA_OUTDIR, platform: Platform | PlatformInput = defaultPlatform(), options: SynthInfraOptions = {}): Promise<void> {
  const validated = 'namesOf' in platform ? platform : loadPlatform(platform);
  await replaceDirectoryAtomically(outdir, async (staging) => {
    const app = new App({ outdir: staging, skipValidation: false });
    buildInfraApp(app, validated, options);
    // One turn of the event loop between building and writing: a host sharing the process (a test
    // runner's worker, whose RPC times out after 60 s without one) gets to read its own I/O.
    await new Promise<void>((resolve) => setImmediate(resolve));
    app.synth();
  });
}

if (require.main === module) runCli('infra', () => synthInfra());
