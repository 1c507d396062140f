// One measured run in a fresh process: `tsx tools/bench-worker.ts <infra|gitops> <clusters|shipped> <outdir>`.
import { performance } from 'node:perf_hooks';
import { defaultPlatform, loadPlatform } from '@platform/platform-config';
import { configureSynthProcess } from '@platform/synth-kit';
import { generatedPlatform } from './generated-platform';

async function main(): Promise<void> {
  const [app, size, outdir] = process.argv.slice(2);
  configureSynthProcess(); // as the apps' synth entry points do (runCli)
  const started = performance.now();
  const platform = size === 'shipped' ? defaultPlatform() : loadPlatform(generatedPlatform(Number(size)));
  if (app === 'infra') {
    const { synthInfra } = await import('@platform/infra');
    await synthInfra(outdir, platform);
  } else if (app === 'gitops') {
    const { synthClusters } = await import('@platform/gitops');
    await synthClusters(outdir, platform);
  } else {
    throw new Error(`unknown app ${app}; expected infra or gitops`);
  }
  const inProcessMs = performance.now() - started;
  process.stdout.write(JSON.stringify({ inProcessMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
