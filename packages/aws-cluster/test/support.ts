import { loadPlatform, platformInput, type ClusterDefinitionInput, type Platform, type PlatformInput } from '@platform/platform-config';
import { Testing, TerraformStack } from 'cdktf';
import { ClusterStack, type ClusterStackProps } from '../src/cluster-stack';

export type Attributes = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The shipped platform input, deep-copied and changed by `edit` before validation. */
export function platform(edit?: (input: { settings: PlatformInput['settings']; clusters: ClusterDefinitionInput[] }) => void): Platform {
  const input = structuredClone(platformInput) as { settings: PlatformInput['settings']; clusters: ClusterDefinitionInput[] };
  edit?.(input);
  return loadPlatform(input);
}

export function clusterInput(input: { clusters: ClusterDefinitionInput[] }, name: string): ClusterDefinitionInput {
  const found = input.clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

/** A synthesized stack, parsed, with helpers to find resources and follow references. */
export class Synth {
  readonly json: Attributes;
  constructor(text: string) {
    this.json = JSON.parse(text);
  }

  resources(type: string): [string, Attributes][] {
    return Object.entries(this.json.resource?.[type] ?? {});
  }

  values(type: string): Attributes[] {
    return this.resources(type).map(([, v]) => v);
  }

  count(type: string): number {
    return this.resources(type).length;
  }

  totalResources(): number {
    return Object.values(this.json.resource ?? {}).reduce((n: number, r) => n + Object.keys(r as object).length, 0);
  }

  /** The resource a `${type.name.attr}` reference points at. */
  deref(reference: string): Attributes {
    const match = /^\$\{([a-z0-9_]+)\.([^.}]+)\.[a-z_]+\}$/.exec(reference);
    if (!match) throw new Error(`not a plain reference: ${reference}`);
    const found = this.json.resource?.[match[1]]?.[match[2]];
    if (!found) throw new Error(`dangling reference: ${reference}`);
    return found;
  }

  /** Parsed JSON of a policy attribute. */
  static policy(text: string): Attributes {
    return JSON.parse(text);
  }
}

export function synthStack(stack: TerraformStack): Synth {
  return new Synth(Testing.synth(stack));
}

export function synthCluster(p: Platform, name: string, props: Partial<ClusterStackProps> = {}): Synth {
  const app = Testing.app();
  const stack = new ClusterStack(app, p.namesOf(name).stack, { platform: p, cluster: p.cluster(name), ...props });
  return synthStack(stack);
}

/** A bare stack with a provider, for testing one construct. */
export function bareStack(): TerraformStack {
  return new TerraformStack(Testing.app(), 'test');
}
