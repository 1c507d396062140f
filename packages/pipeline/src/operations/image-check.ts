import { RegistryError, type ManifestResolver } from '../io/registry';

/** The image a release or promotion would point clusters at is not (or not exactly) in its registry. */
export class ImageCheckError extends Error {}

export interface ImageToCheck {
  readonly app: string;
  readonly repository: string;
  readonly digest: string;
  /** The tag the dispatch named: it must resolve to exactly `digest` (the manifest or index pushed). */
  readonly tag?: string;
}

/**
 * Before a pull request points a cluster at `repository@digest`: the registry must serve that
 * manifest (or index), and a tag the dispatch named must resolve to that same digest, so a
 * typo'd or never-pushed digest is refused here instead of as ImagePullBackOff after the merge.
 */
export async function checkImageInRegistry(resolver: ManifestResolver, image: ImageToCheck): Promise<string> {
  const { app, repository, digest, tag } = image;
  // A registry that refuses or fails is named with the app, like a missing digest.
  const resolve = async (reference: string) => {
    try {
      return await resolver.resolve(repository, reference);
    } catch (e) {
      if (e instanceof RegistryError) throw new ImageCheckError(`${app}: ${repository}@${digest}: ${e.message}`);
      throw e;
    }
  };
  const found = await resolve(digest);
  if (!found) throw new ImageCheckError(`${app}: ${repository}@${digest} is not in the registry (manifest ${digest} unknown in ${repository}); expected the digest of an image pushed there`);
  if (found.digest !== digest) throw new ImageCheckError(`${app}: ${repository}@${digest}: the registry serves the manifest as ${found.digest}; expected the digest it was asked for`);
  if (tag !== undefined) {
    const tagged = await resolve(tag);
    if (!tagged) throw new ImageCheckError(`${app}: ${repository}:${tag} is not in the registry; expected the tag to resolve to ${digest}`);
    if (tagged.digest !== digest) throw new ImageCheckError(`${app}: ${repository}:${tag} resolves to ${tagged.digest}; expected ${digest}, the digest to deploy (the tag moved, or the digest is another image's)`);
  }
  return `${app}: ${repository}@${digest} is in the registry (${found.mediaType})${tag !== undefined ? `, and :${tag} resolves to it` : ''}`;
}
