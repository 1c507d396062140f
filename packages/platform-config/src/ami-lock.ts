import committed from './ami-lock.json';
import type { ClusterDefinition, PlatformSettings } from './cluster-definition';
import type { ConfigIssue } from './config-error';
import { INSTANCE_TYPES, type InstanceTypeInfo } from './instance-types';
import { kubernetesMinor } from './kubernetes-versions';
import { isPlaceholderImageId } from './placeholders';

/*
 * The node image of every region, pinned. A launch template names a concrete `ami-…` from this
 * committed file, never `resolve:ssm:…/current`: a node that an ASG launches during an incident is
 * the image its peers run, and a new image reaches the clusters only as a reviewed pull request
 * (the ami-lock workflow's `pipeline ami-lock --write`), planned and ha-checked like any change.
 */

export type Architecture = InstanceTypeInfo['architecture'];

export const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];

/** Where an image was resolved from: a public SSM parameter and the account that must own the image. */
export interface ImageSource {
  readonly ssmParameter: string;
  readonly owner: string;
}

export interface LockedImage {
  readonly imageId: string;
  /** The image's name as EC2 reports it (describe-images). */
  readonly name: string;
  /** The image's CreationDate (describe-images), ISO 8601 UTC. */
  readonly creationDate: string;
  readonly source: ImageSource;
  /** Kubernetes minors the image serves (a stock OS image: the minors of the clusters in the region when it was locked). */
  readonly kubernetesMinors: readonly string[];
  /** Images our pipeline baked on top of this one, by Kubernetes version (clusters with NodeImage.baked()). */
  readonly baked?: Readonly<Record<string, BakedImage>>;
}

/** An image of our own EC2 Image Builder pipeline (the ami-lock resolver's newest available build). */
export interface BakedImage {
  readonly imageId: string;
  readonly name: string;
  readonly creationDate: string;
  /** The Image Builder pipeline that built it (platform-config nodeImageNames). */
  readonly pipeline: string;
}

/** By region, then architecture. */
export type AmiLock = Readonly<Record<string, Readonly<Partial<Record<Architecture, LockedImage>>>>>;

/** Canonical's publishing account (the owner its public SSM parameters point into). */
export const CANONICAL_OWNER = '099720109477';

/** Ubuntu 24.04 LTS, gp3 root, as Canonical publishes it: the parameter names the current stable image of each architecture. */
export const UBUNTU_2404_SOURCES: Readonly<Record<Architecture, ImageSource>> = {
  x86_64: { ssmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id', owner: CANONICAL_OWNER },
  arm64: { ssmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id', owner: CANONICAL_OWNER },
};

/** EC2 image ids: `ami-` and 8 (older) or 17 hexadecimal digits. */
export const AMI_ID_PATTERN = /^ami-[0-9a-f]{8,17}$/;
const CREATION_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const ACCOUNT_ID = /^\d{12}$/;

/** The committed lock, unchecked: loadPlatform validates it against the clusters. */
export const AMI_LOCK: AmiLock = committed as AmiLock;

export const AMI_LOCK_FILE = 'packages/platform-config/src/ami-lock.json';

/** The architectures a cluster's nodes need, each with the first field that needs it. */
export function architecturesOf(cluster: ClusterDefinition): Map<Architecture, string> {
  const needs = new Map<Architecture, string>();
  const add = (type: string, path: string) => {
    const arch = INSTANCE_TYPES[type]?.architecture;
    if (arch && !needs.has(arch)) needs.set(arch, `${path} ${type}`);
  };
  add(cluster.controlPlane.instanceType, 'controlPlane.instanceType');
  cluster.workerPools.forEach((pool, i) => pool.instanceTypes.forEach((type, j) => add(type, `workerPools[${i}].instanceTypes[${j}]`)));
  return needs;
}

/** Regions and architectures the clusters need, with the minors each must serve (sorted, deterministic). */
export function lockNeeds(clusters: readonly ClusterDefinition[]): Map<string, Map<Architecture, { readonly minors: string[]; readonly why: string }>> {
  const needs = new Map<string, Map<Architecture, { minors: string[]; why: string }>>();
  clusters.forEach((cluster, i) => {
    const region = needs.get(cluster.region) ?? new Map<Architecture, { minors: string[]; why: string }>();
    needs.set(cluster.region, region);
    for (const [arch, field] of architecturesOf(cluster)) {
      const entry = region.get(arch) ?? { minors: [], why: `clusters[${i}].${field} (${cluster.name})` };
      const minor = kubernetesMinor(cluster.kubernetesVersion);
      if (!entry.minors.includes(minor)) entry.minors.push(minor);
      entry.minors.sort();
      region.set(arch, entry);
    }
  });
  return needs;
}

/** Every problem of `lock` for these clusters, as `amiLock.<region>.<architecture>.<field>` issues. */
export function amiLockIssues(lock: unknown, clusters: readonly ClusterDefinition[], settings: PlatformSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report = (path: string, value: unknown, expected: string) => issues.push({ path: `amiLock${path}`, value, expected });
  if (lock === null || typeof lock !== 'object' || Array.isArray(lock)) {
    report('', lock, `expected an object keyed by region (${AMI_LOCK_FILE})`);
    return issues;
  }
  const regions = lock as Record<string, unknown>;
  for (const [region, archs] of lockNeeds(clusters)) {
    const byArch = regions[region];
    if (byArch === null || typeof byArch !== 'object' || Array.isArray(byArch)) {
      const [first] = [...archs.values()];
      report(`.${region}`, byArch, `expected the images of ${region}, where ${first?.why ?? 'a cluster'} runs (npm run pipeline:ami-lock -- --write)`);
      continue;
    }
    for (const [arch, need] of archs) {
      const at = `.${region}.${arch}`;
      const image = (byArch as Record<string, unknown>)[arch];
      if (image === null || typeof image !== 'object' || Array.isArray(image)) {
        report(at, image, `expected the ${arch} image of ${region}, which ${need.why} needs (npm run pipeline:ami-lock -- --write)`);
        continue;
      }
      const e = image as Record<string, unknown>;
      const source = (e.source ?? {}) as Record<string, unknown>;
      if (typeof e.imageId !== 'string' || !AMI_ID_PATTERN.test(e.imageId)) {
        report(`${at}.imageId`, e.imageId, 'expected an EC2 image id: ami- and 8 or 17 lowercase hexadecimal digits');
      } else if (!settings.example && isPlaceholderImageId(e.imageId)) {
        report(`${at}.imageId`, e.imageId, 'expected an image resolved in the region (npm run pipeline:ami-lock -- --write), not a documentation placeholder, while settings.example is false (a platform that is applied)');
      }
      if (typeof e.name !== 'string' || e.name === '') report(`${at}.name`, e.name, 'expected the image name describe-images reports');
      if (typeof e.creationDate !== 'string' || !CREATION_DATE.test(e.creationDate)) report(`${at}.creationDate`, e.creationDate, 'expected the image CreationDate in UTC, like 2026-11-20T08:15:00.000Z');
      if (typeof source.ssmParameter !== 'string' || !source.ssmParameter.startsWith('/aws/service/')) report(`${at}.source.ssmParameter`, source.ssmParameter, 'expected the public SSM parameter it was resolved from (/aws/service/…)');
      if (typeof source.owner !== 'string' || !ACCOUNT_ID.test(source.owner)) report(`${at}.source.owner`, source.owner, 'expected the 12-digit account id that owns the image');
      if (e.baked !== undefined) {
        if (e.baked === null || typeof e.baked !== 'object' || Array.isArray(e.baked)) report(`${at}.baked`, e.baked, 'expected the baked images by Kubernetes version, e.g. {"1.34.1": {…}}');
        else {
          for (const [version, b] of Object.entries(e.baked as Record<string, Record<string, unknown> | null>)) {
            if (typeof b?.imageId !== 'string' || !AMI_ID_PATTERN.test(b.imageId)) report(`${at}.baked.${version}.imageId`, b?.imageId, 'expected an EC2 image id our image pipeline built (npm run pipeline:ami-lock -- --write)');
            if (typeof b?.pipeline !== 'string' || b.pipeline === '') report(`${at}.baked.${version}.pipeline`, b?.pipeline, 'expected the Image Builder pipeline that built it');
          }
        }
      }
      const minors = e.kubernetesMinors;
      if (!Array.isArray(minors) || !minors.every((m) => typeof m === 'string')) {
        report(`${at}.kubernetesMinors`, minors, 'expected the Kubernetes minors the image serves, e.g. ["1.34"]');
      } else {
        const missing = need.minors.filter((m) => !minors.includes(m));
        if (missing.length > 0) report(`${at}.kubernetesMinors`, minors, `expected to include ${missing.join(', ')}, the minor of the clusters in ${region} (npm run pipeline:ami-lock -- --write)`);
      }
    }
  }
  return issues;
}

/** The locked image of `region` and `architecture`; loadPlatform has checked it exists. */
export function lockedImage(lock: AmiLock, region: string, architecture: Architecture): LockedImage {
  const image = lock[region]?.[architecture];
  if (!image) throw new Error(`amiLock.${region}.${architecture}: got nothing; expected an entry in ${AMI_LOCK_FILE} (npm run pipeline:ami-lock -- --write)`);
  return image;
}

/** The file's text for `lock`: regions, architectures and fields in a fixed order, so a rewrite is deterministic. */
export function renderAmiLock(lock: AmiLock): string {
  const sorted = Object.fromEntries(
    Object.keys(lock)
      .sort()
      .map((region) => [
        region,
        Object.fromEntries(
          ARCHITECTURES.flatMap((arch) => {
            const i = lock[region]?.[arch];
            if (!i) return [];
            const baked = i.baked ? { baked: Object.fromEntries(Object.keys(i.baked).sort().map((v) => [v, { imageId: i.baked![v]!.imageId, name: i.baked![v]!.name, creationDate: i.baked![v]!.creationDate, pipeline: i.baked![v]!.pipeline }])) } : {};
            return [[arch, { imageId: i.imageId, name: i.name, creationDate: i.creationDate, source: { ssmParameter: i.source.ssmParameter, owner: i.source.owner }, kubernetesMinors: [...i.kubernetesMinors].sort(), ...baked }]];
          }),
        ),
      ]),
  );
  return `${JSON.stringify(sorted, null, 2)}\n`;
}
