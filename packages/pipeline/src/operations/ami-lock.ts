import { bakedImageRegions, lockNeeds, nodeImageNames, UBUNTU_2404_SOURCES, type AmiLock, type Architecture, type BakedImage, type LockedImage, type Platform } from '@platform/platform-config';

/** What `describe-images` reports of one image (the fields the lock records or checks). */
export interface Ec2Image {
  readonly ImageId: string;
  readonly Name: string;
  readonly CreationDate: string;
  readonly OwnerId: string;
  /** `x86_64` or `arm64` (EC2's names, the same as INSTANCE_TYPES'). */
  readonly Architecture: string;
  readonly State: string;
}

/** The two read-only EC2/SSM calls the resolver makes, in one region each. */
export interface ImageCatalog {
  /** `ssm get-parameters`: found parameters by name, and the names SSM reports as InvalidParameters (absent in that region). */
  getParameters(region: string, names: readonly string[]): Promise<{ readonly values: Readonly<Record<string, string>>; readonly invalid: readonly string[] }>;
  /** `ec2 describe-images --image-ids`: the images, in no particular order. */
  describeImages(region: string, imageIds: readonly string[]): Promise<readonly Ec2Image[]>;
  /** `ec2 describe-images --owners self` with a name prefix: this account's images, in no particular order. */
  describeOwnImages(region: string, namePrefix: string): Promise<readonly Ec2Image[]>;
}

export interface LockChange {
  readonly region: string;
  readonly architecture: Architecture;
  readonly from: LockedImage | undefined;
  readonly to: LockedImage;
}

export interface ResolvedLock {
  readonly lock: AmiLock;
  readonly changes: readonly LockChange[];
  /** Regions/architectures where the resolved image is older than the locked one: kept as locked. */
  readonly kept: readonly string[];
}

/**
 * The newest image of every region and architecture the clusters need, as Canonical's public
 * SSM parameter names it, checked against describe-images (owner, architecture, available).
 * Why the parameter and not `describe-images --owners 099720109477` sorted by CreationDate:
 * the parameter is Canonical's own pointer to the current *stable* server build of this exact
 * flavour (24.04, gp3, hvm); a name-pattern search also matches daily, minimal and Pro builds,
 * and a wrong filter silently picks another flavour. describe-images then records the name and
 * creation date and proves the owner, so a parameter pointing anywhere else fails.
 * An image older than the locked one is never taken (a parameter rolled back, a lagging region).
 */
export async function resolveAmiLock(platform: Platform, catalog: ImageCatalog, current: AmiLock): Promise<ResolvedLock> {
  const lock: Record<string, Partial<Record<Architecture, LockedImage>>> = {};
  const changes: LockChange[] = [];
  const kept: string[] = [];
  for (const [region, needs] of [...lockNeeds(platform.clusters)].sort(([a], [b]) => a.localeCompare(b))) {
    const architectures = [...needs.keys()].sort();
    const names = architectures.map((arch) => UBUNTU_2404_SOURCES[arch].ssmParameter);
    const { values, invalid } = await catalog.getParameters(region, names);
    if (invalid.length > 0) throw new Error(`${region}: SSM has no parameter ${invalid.join(', ')} (InvalidParameters); expected Canonical's public parameters in every cluster region`);
    const ids = names.map((name) => {
      const id = values[name];
      if (!id) throw new Error(`${region}: ${name} returned no value`);
      return id;
    });
    const images = new Map((await catalog.describeImages(region, [...new Set(ids)])).map((image) => [image.ImageId, image]));
    lock[region] = {};
    architectures.forEach((arch, i) => {
      const source = UBUNTU_2404_SOURCES[arch];
      const id = ids[i]!;
      const image = images.get(id);
      if (!image) throw new Error(`${region}: ${source.ssmParameter} names ${id}, which describe-images does not return`);
      for (const [field, got, expected] of [
        ['OwnerId', image.OwnerId, source.owner],
        ['Architecture', image.Architecture, arch],
        ['State', image.State, 'available'],
      ] as const) {
        if (got !== expected) throw new Error(`${region}: ${id} (from ${source.ssmParameter}) ${field}: got ${JSON.stringify(got)}; expected ${JSON.stringify(expected)}`);
      }
      const previous = current[region]?.[arch];
      const resolved: LockedImage = { imageId: id, name: image.Name, creationDate: image.CreationDate, source, kubernetesMinors: needs.get(arch)!.minors };
      if (previous && previous.imageId !== id && Date.parse(previous.creationDate) > Date.parse(image.CreationDate)) {
        kept.push(`${region}/${arch}: resolved ${id} (${image.CreationDate}) is older than the locked ${previous.imageId} (${previous.creationDate}); kept`);
        lock[region]![arch] = { ...previous, kubernetesMinors: resolved.kubernetesMinors };
        return;
      }
      lock[region]![arch] = resolved;
      if (!previous || JSON.stringify(previous) !== JSON.stringify(resolved)) changes.push({ region, architecture: arch, from: previous, to: resolved });
    });
  }
  await resolveBakedImages(platform, catalog, current, lock, changes);
  return { lock, changes, kept };
}

/**
 * For every region and Kubernetes version whose clusters use NodeImage.baked(): the newest
 * available image our own pipeline built (this account's, named with the pipeline's prefix, of
 * the architecture), never a public one. None built yet keeps what the lock had (or nothing:
 * those clusters boot the Ubuntu image and prepare at first boot).
 */
async function resolveBakedImages(platform: Platform, catalog: ImageCatalog, current: AmiLock, lock: Record<string, Partial<Record<Architecture, LockedImage>>>, changes: LockChange[]): Promise<void> {
  for (const [region, versions] of bakedImageRegions(platform.clusters)) {
    for (const arch of Object.keys(lock[region] ?? {}).sort() as Architecture[]) {
      const entry = lock[region]![arch]!;
      const baked: Record<string, BakedImage> = {};
      for (const version of versions) {
        const names = nodeImageNames(platform.settings, region, version, arch);
        const built = (await catalog.describeOwnImages(region, names.amiNamePrefix))
          .filter((i) => i.State === 'available' && i.Architecture === arch && i.Name.startsWith(names.amiNamePrefix))
          .sort((a, b) => b.CreationDate.localeCompare(a.CreationDate))[0];
        const previous = current[region]?.[arch]?.baked?.[version];
        if (built) baked[version] = { imageId: built.ImageId, name: built.Name, creationDate: built.CreationDate, pipeline: names.pipeline };
        else if (previous) baked[version] = previous;
      }
      if (Object.keys(baked).length === 0) continue;
      const next: LockedImage = { ...entry, baked };
      lock[region]![arch] = next;
      if (JSON.stringify(current[region]?.[arch]?.baked ?? {}) !== JSON.stringify(baked) && !changes.some((c) => c.region === region && c.architecture === arch)) {
        changes.push({ region, architecture: arch, from: current[region]?.[arch], to: next });
      } else {
        const change = changes.find((c) => c.region === region && c.architecture === arch);
        if (change) changes.splice(changes.indexOf(change), 1, { ...change, to: next });
      }
    }
  }
}

/** The pull request body: one row per changed image. */
export function lockChangeMarkdown(resolved: ResolvedLock): string {
  const baked = (image: LockedImage | undefined) => Object.entries(image?.baked ?? {}).map(([version, b]) => `<br>baked ${version}: \`${b.imageId}\` (${b.creationDate.slice(0, 10)})`).join('');
  const rows = resolved.changes.map((c) => `| ${c.region} | ${c.architecture} | ${c.from ? `\`${c.from.imageId}\` (${c.from.creationDate.slice(0, 10)})${baked(c.from)}` : '—'} | \`${c.to.imageId}\` (${c.to.creationDate.slice(0, 10)})${baked(c.to)} | ${c.to.name} |`);
  return [
    '### Node images (AMI lock)',
    '',
    resolved.changes.length === 0 ? 'Every region already runs the newest image.' : '| region | arch | locked | newest | name |\n| --- | --- | --- | --- | --- |\n' + rows.join('\n'),
    ...(resolved.kept.length > 0 ? ['', ...resolved.kept.map((k) => `- ${k}`)] : []),
    '',
    'Merging changes every launch template of these regions; the apply then rolls the control plane one AZ at a time (`pipeline roll-control-plane`). Workers take the image as they are replaced.',
    '',
  ].join('\n');
}
