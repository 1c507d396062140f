import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HaCheckInputError } from './input-error';
import { parseTerraformDocument, referencedResource, type TfResource, type TfStack } from './private/terraform-json';

export type { TfResource, TfStack } from './private/terraform-json';
export { referencedResource } from './private/terraform-json';

export interface PreferredPlan {
  /** The `cdk.tf.json` not loaded. */
  readonly skipped: string;
  /** The plan JSON file(s) loaded instead, from the same folder. */
  readonly plans: readonly string[];
}

/** Every loaded stack's resources, with Terraform references resolved within their stack. */
export class TerraformIndex {
  readonly resources: readonly TfResource[];
  private readonly byAddress = new Map<string, TfResource>();
  private readonly byTypeMap = new Map<string, TfResource[]>();
  private readonly regions = new Map<string, string>();

  /**
   * @param preferredPlans a folder's `cdk.tf.json` left out because a plan of the same stack sat
   * beside it (the plan is what will really be deployed; loading both would count it twice).
   */
  constructor(
    readonly stacks: readonly TfStack[],
    readonly preferredPlans: readonly PreferredPlan[] = [],
  ) {
    this.resources = stacks.flatMap((s) => s.resources);
    for (const stack of stacks) for (const [key, region] of stack.providerRegions) this.regions.set(`${stack.stack}/${key}`, region);
    for (const r of this.resources) {
      this.byAddress.set(r.address, r);
      const list = this.byTypeMap.get(r.type) ?? [];
      list.push(r);
      this.byTypeMap.set(r.type, list);
    }
  }

  byType(type: string): readonly TfResource[] {
    return this.byTypeMap.get(type) ?? [];
  }

  /** The resource a `${type.name.attr}` value points at, searched in `from`'s stack. */
  resolve(from: TfResource, value: unknown): TfResource | undefined {
    const ref = referencedResource(value);
    return ref === undefined ? undefined : this.byAddress.get(`${from.stack}/${ref}`);
  }

  /** Region the resource is created in, from its provider block. */
  regionOf(resource: TfResource): string | undefined {
    return this.regions.get(`${resource.stack}/${resource.provider}`) ?? this.regions.get(`${resource.stack}/aws`);
  }

  /** The default provider region of the stacks (the cluster's region). */
  get primaryRegion(): string | undefined {
    for (const stack of this.stacks) {
      const region = stack.providerRegions.get('aws');
      if (region) return region;
    }
    return undefined;
  }
}

function isTerraformFile(name: string): boolean {
  return name === 'cdk.tf.json' || /plan.*\.json$|\.tfplan\.json$/.test(name);
}

function findTerraformFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.terraform')) continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (isTerraformFile(entry.name)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/**
 * Loads Terraform from files or directories (searched recursively for `cdk.tf.json` and
 * plan JSON files such as `plan.json`). Throws HaCheckInputError on anything unreadable.
 */
export function loadTerraform(paths: readonly string[]): TerraformIndex {
  if (paths.length === 0) throw new HaCheckInputError('no Terraform input: pass --terraform <file|dir> or --cluster <name>');
  const preferred: PreferredPlan[] = [];
  const files = paths.flatMap((p) => {
    if (!existsSync(p)) throw new HaCheckInputError(`${p}: no such file or directory (run \`npm run synth\` to write apps/infra/cdktf.out)`);
    if (!statSync(p).isDirectory()) return [p];
    const inDir = findTerraformFiles(p);
    if (inDir.length === 0) throw new HaCheckInputError(`${p}: no cdk.tf.json or plan JSON file found in this directory`);
    // A stack folder holding its cdk.tf.json and a plan of it: the plan is what will be deployed.
    return inDir.filter((file) => {
      if (basename(file) !== 'cdk.tf.json') return true;
      const plans = inDir.filter((other) => other !== file && dirname(other) === dirname(file));
      if (plans.length > 0) preferred.push({ skipped: file, plans });
      return plans.length === 0;
    });
  });
  const stackDirs = new Set(preferred.map((p) => dirname(p.skipped)));
  const stacks = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new HaCheckInputError(`${file}: cannot read (${(error as Error).message})`);
    }
    // A plan in a stack folder is named after the stack, like the cdk.tf.json it replaces.
    const fallback = basename(file) === 'cdk.tf.json' || stackDirs.has(dirname(file)) ? basename(dirname(file)) : basename(file).replace(/\.json$/, '');
    return parseTerraformDocument(text, file, fallback);
  });
  return new TerraformIndex(stacks, preferred);
}
