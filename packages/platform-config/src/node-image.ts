import type { Architecture, LockedImage } from './ami-lock';
import type { ClusterDefinition, PlatformSettings } from './cluster-definition';

/**
 * Where a cluster's node image comes from: a strategy, not a flag.
 * - `NodeImage.ubuntu()` (default): the locked Ubuntu 24.04 image; node-prep installs the pinned
 *   tools at first boot (downloads, each checked against its pinned SHA-256).
 * - `NodeImage.baked()`: the region's EC2 Image Builder pipeline (aws-cluster `NodeImageStack`)
 *   bakes those tools into an image built on the same locked Ubuntu image; the ami-lock workflow
 *   records the newest one per region and Kubernetes version, and nodes boot it and download nothing.
 */
export abstract class NodeImage {
  static ubuntu(): NodeImage {
    return new UbuntuNodeImage();
  }

  static baked(): NodeImage {
    return new BakedNodeImage();
  }

  /** The strategy of a serialized definition (`{ kind }`, what a copy of the input keeps). */
  static of(kind: 'ubuntu' | 'baked'): NodeImage {
    return kind === 'baked' ? NodeImage.baked() : NodeImage.ubuntu();
  }

  abstract readonly kind: 'ubuntu' | 'baked';

  /**
   * The image id a launch template names. A baked cluster whose lock has no baked image yet (the
   * pipeline has not run) boots the locked Ubuntu image, which node-prep prepares as before.
   */
  abstract imageIdOf(locked: LockedImage, kubernetesVersion: string): string;
}

class UbuntuNodeImage extends NodeImage {
  readonly kind = 'ubuntu';
  imageIdOf(locked: LockedImage): string {
    return locked.imageId;
  }
}

class BakedNodeImage extends NodeImage {
  readonly kind = 'baked';
  imageIdOf(locked: LockedImage, kubernetesVersion: string): string {
    return locked.baked?.[kubernetesVersion]?.imageId ?? locked.imageId;
  }
}

/** The names of one region's image pipeline for one Kubernetes version (Image Builder names: letters, digits, hyphens). */
export interface NodeImageNames {
  /** The stack, one per region that hosts a cluster opting into `NodeImage.baked()`. */
  readonly stack: string;
  readonly pipeline: string;
  /** The AMI name prefix the distribution gives every build; the ami-lock resolver searches it. */
  readonly amiNamePrefix: string;
  readonly role: string;
  readonly keyAlias: string;
}

export function nodeImageStackName(region: string): string {
  return `node-image-${region}`;
}

export function nodeImageNames(settings: Pick<PlatformSettings, 'organization'>, region: string, kubernetesVersion: string, architecture: Architecture): NodeImageNames {
  const id = `${settings.organization}-node-${kubernetesVersion.replace(/\./g, '-')}-${architecture.replace('_', '-')}`;
  return { stack: nodeImageStackName(region), pipeline: id, amiNamePrefix: `${id}-`, role: `${settings.organization}-node-image-builder-${region}`, keyAlias: `alias/${settings.organization}-node-image-${region}` };
}

/** Regions that bake, each with the Kubernetes versions its opted-in clusters run (sorted: deterministic). */
export function bakedImageRegions(clusters: readonly ClusterDefinition[]): Map<string, string[]> {
  const regions = new Map<string, string[]>();
  for (const cluster of clusters) {
    if (cluster.nodeImage.kind !== 'baked') continue;
    const versions = regions.get(cluster.region) ?? [];
    if (!versions.includes(cluster.kubernetesVersion)) versions.push(cluster.kubernetesVersion);
    regions.set(cluster.region, versions.sort());
  }
  return new Map([...regions].sort(([a], [b]) => a.localeCompare(b)));
}
