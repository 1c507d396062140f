import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { CLUSTER_OUTPUTS, fisTemplateZones, gameDayTarget, renderGameDaySummary } from '../src/game-day';
import { summarizeProbes } from '../src/probes';
import { synthInfraStacks } from './support/infra-synth';

const platform = defaultPlatform();
const CLUSTER = 'production';
const names = platform.namesOf(CLUSTER);
const [zoneA, zoneB] = platform.cluster(CLUSTER).availabilityZones;
const outputs = { [CLUSTER_OUTPUTS.fisTemplateId]: 'EXT1a2b3c', [CLUSTER_OUTPUTS.apiEndpoint]: 'api.production.internal' };

describe('fisTemplateZones on the synthesized cluster stack', () => {
  let stackJson: Record<string, unknown>;
  beforeAll(() => {
    stackJson = synthInfraStacks()(names.stack);
  }, 120_000);

  it('reads the one zone the AZ-failure template takes away (instances and subnets agree)', () => {
    const zones = fisTemplateZones(platform, CLUSTER, stackJson);
    expect(zones).toHaveLength(1);
    expect(platform.cluster(CLUSTER).availabilityZones).toContain(zones[0]);
  });

  it('finds nothing in a stack without the template', () => {
    expect(fisTemplateZones(platform, CLUSTER, { resource: {} })).toEqual([]);
  });
});

describe('gameDayTarget', () => {
  it('starts the template for its zone and probes the API readyz and the sample app', () => {
    expect(gameDayTarget(platform, CLUSTER, zoneA, outputs, [zoneA])).toEqual({
      templateId: 'EXT1a2b3c',
      apiUrl: 'https://api.production.internal:6443/readyz',
      appUrl: `https://${platform.names.appHostname}/`,
    });
  });

  it('refuses a zone the single template does not take away, instead of mislabelling the report', () => {
    expect(() => gameDayTarget(platform, CLUSTER, zoneB, outputs, [zoneA])).toThrow(
      `availability zone "${zoneB}": the ${names.fisExperiment} experiment of stack ${names.stack} takes away ${zoneA}; expected that zone, or a template for ${zoneB} (output ${CLUSTER_OUTPUTS.fisTemplateIdsByAz})`,
    );
  });

  it('takes the per-zone template when the stack outputs one', () => {
    const byAz = { ...outputs, [CLUSTER_OUTPUTS.fisTemplateIdsByAz]: { [zoneB]: 'EXTzoneB' } };
    expect(gameDayTarget(platform, CLUSTER, zoneB, byAz, [zoneA]).templateId).toBe('EXTzoneB');
  });

  it('refuses a zone outside the cluster', () => {
    expect(() => gameDayTarget(platform, CLUSTER, 'us-east-1a', outputs, [zoneA])).toThrow(
      `availability zone "us-east-1a" is not one of production's zones; expected one of ${platform.cluster(CLUSTER).availabilityZones.join(', ')}`,
    );
  });

  it('asks for an apply when the stack has no template output', () => {
    expect(() => gameDayTarget(platform, CLUSTER, zoneA, { [CLUSTER_OUTPUTS.apiEndpoint]: 'x' }, [zoneA])).toThrow(
      `stack ${names.stack} has no output ${CLUSTER_OUTPUTS.fisTemplateIdsByAz}[${zoneA}] or ${CLUSTER_OUTPUTS.fisTemplateId}; apply it first`,
    );
  });
});

describe('renderGameDaySummary', () => {
  it('reports availability and the longest outage per endpoint', () => {
    const samples = [true, false, false, true, true].map((ok, i) => ({ at: i * 2000, ok, latencyMs: 3 }));
    const down = [true, true, false].map((ok, i) => ({ at: i * 500, ok, latencyMs: 3 }));
    const markdown = renderGameDaySummary({
      cluster: CLUSTER,
      az: zoneA,
      experimentId: 'EXP123',
      finalState: 'completed',
      reports: [
        { name: 'Kubernetes API', url: 'https://api/readyz', samples, availability: summarizeProbes(samples) },
        { name: 'sample app', url: 'https://app/', samples: down, availability: summarizeProbes(down) },
      ],
    });
    expect(markdown.split('\n')[0]).toBe(`## Game day: ${CLUSTER} without ${zoneA}`);
    expect(markdown).toContain('FIS experiment `EXP123` ended `completed`.');
    expect(markdown).toContain('| Kubernetes API | https://api/readyz | 60.00 % | 3/5 | 4.0 s | 1 | up |');
    expect(markdown).toContain('| sample app | https://app/ | 66.67 % | 2/3 | 0 ms | 1 | still down |');
  });
});
