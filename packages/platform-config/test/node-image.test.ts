import { describe, expect, it } from 'vitest';
import { AMI_LOCK, bakedImageRegions, defaultPlatform, loadPlatform, NodeImage, nodeImageNames, platformInput, renderAmiLock, type LockedImage } from '../src';
import { problems, withChange } from './support';

const BASE = AMI_LOCK['ap-northeast-2']!.x86_64!;
const BAKED: LockedImage = { ...BASE, baked: { '1.34.1': { imageId: 'ami-0b4ced0000000beef', name: 'hakube-node-1-34-1-x86-64-2026-12-06T18-04-11Z', creationDate: '2026-12-06T18:41:02.000Z', pipeline: 'hakube-node-1-34-1-x86-64' } } };

describe('NodeImage: where a cluster node image comes from', () => {
  it('defaults to the locked Ubuntu image; staging opts into the baked image', () => {
    const platform = defaultPlatform();
    expect(platform.cluster('production').nodeImage.kind).toBe('ubuntu');
    expect(platform.cluster('staging').nodeImage.kind).toBe('baked');
    expect(bakedImageRegions(platform.clusters)).toEqual(new Map([['ap-northeast-2', ['1.34.1']]]));
  });

  it('survives a copy of the input (structuredClone keeps only the kind) as the same strategy', () => {
    const copied = loadPlatform(structuredClone(platformInput));
    expect(copied.cluster('staging').nodeImage).toBeInstanceOf(NodeImage);
    expect(copied.cluster('staging').nodeImage.kind).toBe('baked');
  });

  it('a baked cluster boots its version built image from the lock, and the Ubuntu image until one is recorded', () => {
    expect(NodeImage.baked().imageIdOf(BAKED, '1.34.1')).toBe('ami-0b4ced0000000beef');
    expect(NodeImage.baked().imageIdOf(BAKED, '1.33.5')).toBe(BASE.imageId);
    expect(NodeImage.baked().imageIdOf(BASE, '1.34.1')).toBe(BASE.imageId);
    expect(NodeImage.ubuntu().imageIdOf(BAKED, '1.34.1')).toBe(BASE.imageId);
  });

  it('names one pipeline per region, Kubernetes version and architecture', () => {
    expect(nodeImageNames({ organization: 'hakube' }, 'ap-northeast-2', '1.34.1', 'x86_64')).toEqual({
      stack: 'node-image-ap-northeast-2',
      pipeline: 'hakube-node-1-34-1-x86-64',
      amiNamePrefix: 'hakube-node-1-34-1-x86-64-',
      role: 'hakube-node-image-builder-ap-northeast-2',
      keyAlias: 'alias/hakube-node-image-ap-northeast-2',
    });
  });

  it('the lock keeps baked images through a rewrite, and rejects a baked entry that is not an image id', () => {
    const text = renderAmiLock({ 'ap-northeast-2': { x86_64: BAKED } });
    expect(JSON.parse(text)['ap-northeast-2'].x86_64.baked).toEqual(BAKED.baked);
    expect(problems(withChange((i) => (i.amiLock['ap-northeast-2'].x86_64.baked = { '1.34.1': { imageId: 'resolve:ssm:/x', pipeline: 'p' } })))).toContain(
      'amiLock.ap-northeast-2.x86_64.baked.1.34.1.imageId: got "resolve:ssm:/x"; expected an EC2 image id our image pipeline built (npm run pipeline:ami-lock -- --write)',
    );
  });
});
