import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuConsumerTagRef, SCALE_DAY_IMAGE_LOCK_FILE, scaleDayProfileOf, type ScaleDayImageLock } from '@platform/platform-config';
import { OciRegistryClient, type ManifestResolver } from '../../io/registry';
import { containerImage, renderImageLock, resolveImageLock, verifyLockedImage } from '../../operations/scale-day/image-lock';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface ImageLockDeps {
  /** @default the registries themselves (OCI Distribution API over HTTPS, anonymous pull) */
  readonly registry?: ManifestResolver;
}

export interface ImageLockOptions {
  readonly write: boolean;
  /** Verify before a scale-day run on this cluster instead of writing. */
  readonly verify: string | undefined;
}

/** The PR body `--write` leaves for image-lock.yml (under the pipeline's out dir). */
export const IMAGE_LOCK_PR_BODY = 'image-lock-pr.md';

/** The consumer container's name in web's Deployment (k8s-addons SampleWebService). */
export const CPU_CONSUMER_CONTAINER = 'cpu-consumer';

/**
 * `image-lock --write`: resolves every tag of the scale-day image lock through its registry and
 * rewrites the lock (output `changed`); synth then renders `:tag@digest`.
 * `image-lock --verify <cluster>` (scale-day.yml, before the load): the cluster's committed
 * manifest runs what the lock renders, and the registry serves the locked digest, the tag
 * resolving to it; exit 1 otherwise. A cluster whose profile carries no consumer has nothing to check.
 */
export function imageLockCommand(deps: ImageLockDeps = {}): Command<ImageLockOptions> {
  return {
    description: 'resolve the scale-day images (the CPU consumer) through their registry into the image lock, or verify it before a scale-day run',
    parse(args) {
      const v = parseOptions(args, { write: { type: 'boolean' }, verify: { type: 'string' } });
      if ((v.write ?? false) === (v.verify !== undefined)) throw new UsageError('expected exactly one of --write or --verify <cluster>');
      return { write: v.write ?? false, verify: v.verify };
    },
    async run(options, { platform, paths, actions, log }) {
      const registry = deps.registry ?? new OciRegistryClient();
      const file = join(paths.repoRoot, SCALE_DAY_IMAGE_LOCK_FILE);
      const lock = JSON.parse(readFileSync(file, 'utf8')) as ScaleDayImageLock;
      if (options.write) {
        const resolved = await resolveImageLock(registry, lock);
        const changed = resolved.changes.length > 0;
        if (changed) writeFileSync(file, renderImageLock(resolved.lock));
        resolved.changes.forEach((line) => log(line));
        mkdirSync(paths.outDir, { recursive: true });
        writeFileSync(
          join(paths.outDir, IMAGE_LOCK_PR_BODY),
          [
            '### Scale-day image lock',
            '',
            ...(changed ? resolved.changes.map((line) => `- ${line}`) : ['- no change']),
            '',
            `Resolved through the registry (OCI distribution API) by \`npm run pipeline:image-lock -- --write\`; clusters/ re-synthesized, so the Flux diff shows the new \`:tag@digest\`.`,
            '',
          ].join('\n'),
        );
        log(changed ? `rewrote ${SCALE_DAY_IMAGE_LOCK_FILE}; synthesize (npm run synth) and commit clusters/` : `${SCALE_DAY_IMAGE_LOCK_FILE} is current`);
        actions.output('changed', String(changed));
        return 0;
      }
      const cluster = platform.clusters.find((c) => c.name === options.verify);
      if (!cluster) throw new UsageError(`--verify ${options.verify}: expected one of ${platform.clusters.map((c) => c.name).join(', ')}`);
      if (!scaleDayProfileOf(cluster).cpuConsumer) {
        log(`${cluster.name}: its scale-day profile runs no CPU consumer; no image to verify`);
        return 0;
      }
      const manifest = `clusters/${cluster.name}/apps/sample-web.yaml`;
      const lines = await verifyLockedImage(registry, {
        ref: cpuConsumerTagRef(),
        lock,
        rendered: containerImage(readFileSync(join(paths.repoRoot, manifest), 'utf8'), CPU_CONSUMER_CONTAINER),
        manifest,
        example: platform.settings.example,
      });
      lines.forEach((line) => log(line));
      actions.summary(lines.map((l) => `- ${l}`).join('\n') + '\n');
      return 0;
    },
  };
}
