import { parseAllDocuments } from 'yaml';
import type { ScaleDayImageLock } from '@platform/platform-config';
import type { ManifestResolver } from '../../io/registry';
import { checkImageInRegistry, ImageCheckError } from '../image-check';

/*
 * The scale-day image lock (platform-config scale-day-image-lock.json): `<repository>:<tag>` →
 * the digest the registry gave for the tag, or null before anyone resolved it. Written from the
 * registry (resolveImageLock), verified before every scale-day run (verifyLockedImage).
 */

const splitTagRef = (ref: string) => ({ repository: ref.slice(0, ref.lastIndexOf(':')), tag: ref.slice(ref.lastIndexOf(':') + 1) });

/** Every key's tag resolved through its registry: the new lock and one line per change. */
export async function resolveImageLock(resolver: ManifestResolver, lock: ScaleDayImageLock): Promise<{ readonly lock: ScaleDayImageLock; readonly changes: readonly string[] }> {
  const next: Record<string, string> = {};
  const changes: string[] = [];
  for (const ref of Object.keys(lock).sort()) {
    const { repository, tag } = splitTagRef(ref);
    const found = await resolver.resolve(repository, tag);
    if (!found) throw new ImageCheckError(`${ref} is not in the registry (tag ${tag} unknown in ${repository}); expected a tag that was pushed there`);
    next[ref] = found.digest;
    if (lock[ref] !== found.digest) changes.push(`${ref}: ${lock[ref] ?? 'unresolved'} → ${found.digest}`);
  }
  return { lock: next, changes };
}

/** The file as `--write` leaves it (sorted keys, two-space JSON, final newline). */
export const renderImageLock = (lock: ScaleDayImageLock): string => `${JSON.stringify(Object.fromEntries(Object.keys(lock).sort().map((k) => [k, lock[k] ?? null])), null, 2)}\n`;

/** The image reference the lock renders for `ref`. */
export const lockedImageRef = (lock: ScaleDayImageLock, ref: string): string => (lock[ref] ? `${ref}@${lock[ref]}` : ref);

/** The image of `container` in a rendered multi-document manifest, or undefined. */
export function containerImage(manifestYaml: string, container: string): string | undefined {
  for (const doc of parseAllDocuments(manifestYaml)) {
    const o = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { name: string; image: string }[] } } } } | null;
    const c = o?.kind === 'Deployment' ? o.spec?.template?.spec?.containers?.find((x) => x.name === container) : undefined;
    if (c) return c.image;
  }
  return undefined;
}

export interface LockedImageCheck {
  /** The lock's key, `<repository>:<tag>`. */
  readonly ref: string;
  readonly lock: ScaleDayImageLock;
  /** The image the cluster's committed manifest runs (what Flux applies). */
  readonly rendered: string | undefined;
  /** Where `rendered` was read, for the message. */
  readonly manifest: string;
  /** The platform is an example: an unresolved lock (the tag alone) is allowed there. */
  readonly example: boolean;
}

/**
 * Before a scale-day run: the committed manifest runs what the lock renders (synth is current),
 * the locked digest is in the registry and the tag still resolves to it. Unresolved: refused on a
 * platform that is applied; on the example platform the tag's current digest is reported, to be pinned.
 * Returns the lines to log; throws ImageCheckError with the reason.
 */
export async function verifyLockedImage(resolver: ManifestResolver, check: LockedImageCheck): Promise<string[]> {
  const { ref, lock, rendered, manifest, example } = check;
  if (!(ref in lock)) throw new ImageCheckError(`${ref}: not in the image lock; expected a key of ${Object.keys(lock).join(', ')}`);
  const expected = lockedImageRef(lock, ref);
  if (rendered !== expected) throw new ImageCheckError(`${manifest} runs ${rendered ?? 'no such container'}; expected ${expected}, what the image lock renders (synthesize and merge first)`);
  const { repository, tag } = splitTagRef(ref);
  const digest = lock[ref];
  if (digest) return [await checkImageInRegistry(resolver, { app: 'scale-day', repository, digest, tag })];
  const found = await resolver.resolve(repository, tag);
  if (!found) throw new ImageCheckError(`${ref} is not in the registry (tag ${tag} unknown in ${repository}); expected a tag that was pushed there`);
  const pin = `pin it: npm run pipeline:image-lock -- --write (${ref} → ${found.digest})`;
  if (!example) throw new ImageCheckError(`${ref}: the image lock has no digest; expected one on a platform that is applied (settings.example false): ${pin}`);
  return [`${ref}: not pinned (example platform): the pods pull the tag, which the registry resolves to ${found.digest} now; ${pin}`];
}
