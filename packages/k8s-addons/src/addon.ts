import type { Chart } from 'cdk8s';
import { WORKLOAD_IDENTITIES, type ClusterDefinition, type ClusterNames, type Platform, type WorkloadIdentityId } from '@platform/platform-config';
import { deepMerge, type DeepPartial } from './private/merge';

/**
 * Flux layers in the order Flux applies them. Each layer is one Flux Kustomization that
 * depends on the one before it, so an add-on may only depend on add-ons of its own or an
 * earlier layer (CRDs installed by a controller exist before configs that use them).
 */
export const FLUX_LAYERS = ['flux-system', 'infra-controllers', 'infra-configs', 'apps'] as const;
export type FluxLayer = (typeof FLUX_LAYERS)[number];

/** What an add-on may read while it deploys: the cluster and every name derived from it. */
export interface AddOnContext {
  readonly platform: Platform;
  readonly cluster: ClusterDefinition;
  readonly names: ClusterNames;
}

export function addOnContext(platform: Platform, cluster: ClusterDefinition | string): AddOnContext {
  const definition = typeof cluster === 'string' ? platform.cluster(cluster) : cluster;
  return { platform, cluster: definition, names: platform.namesOf(definition) };
}

/** A Helm release by name and namespace (a HelmRelease `dependsOn` entry). */
export interface NamespacedName {
  readonly name: string;
  readonly namespace: string;
}

/** The context at deploy time: plus the HelmReleases of same-layer dependencies to wait for. */
export interface DeployContext extends AddOnContext {
  readonly dependsOnReleases: readonly NamespacedName[];
}

/** A class of add-on; dependencies are declared by class so a rename cannot break them silently. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AddOnClass = abstract new (...args: any[]) => AddOn;

/** The add-on contract: an id, a layer, its dependencies, and `deploy` that fills one chart. */
export interface AddOn {
  /** Unique and stable: the chart id and the file name under the layer folder. */
  readonly id: string;
  readonly layer: FluxLayer;
  readonly dependencies: readonly AddOnClass[];
  /**
   * The workload identity whose IAM role the add-on's AWS-calling pods use (platform-config
   * WORKLOAD_IDENTITIES: namespace, service account; aws-cluster makes the role with the policy it
   * keys by the same id). Absent: the add-on's pods get no AWS credentials at all.
   */
  readonly awsIdentity?: WorkloadIdentityId;
  /** Checks props against the cluster; throws AddOnValidationError. Called for every add-on before any deploys. */
  validate(ctx: AddOnContext): void;
  /** Writes the add-on's objects into `chart` (one chart, one file, per add-on). */
  deploy(chart: Chart, ctx: DeployContext): void;
}

/** A wrong add-on prop: names the add-on, the prop, the value and what is expected. */
export class AddOnValidationError extends Error {
  constructor(addOnId: string, prop: string, value: unknown, expected: string) {
    super(`${addOnId}: ${prop} is ${JSON.stringify(value)}; ${expected}`);
    this.name = 'AddOnValidationError';
  }
}

/**
 * Shared base: defaults (which may depend on the cluster, e.g. replicas per AZ) merged with
 * the caller's overrides, then validated. Subclasses implement `defaults`, `check` and `render`.
 */
export abstract class AddOnBase<P extends object> implements AddOn {
  abstract readonly id: string;
  abstract readonly layer: FluxLayer;
  readonly dependencies: readonly AddOnClass[] = [];
  readonly awsIdentity?: WorkloadIdentityId;

  constructor(private readonly overrides: DeepPartial<P> = {} as DeepPartial<P>) {}

  /** The props this add-on deploys with on `ctx`'s cluster. */
  props(ctx: AddOnContext): P {
    return deepMerge(this.defaults(ctx), this.overrides);
  }

  validate(ctx: AddOnContext): void {
    this.checkIdentity(ctx);
    this.check(this.props(ctx), ctx);
  }

  deploy(chart: Chart, ctx: DeployContext): void {
    const props = this.props(ctx);
    this.checkIdentity(ctx);
    this.check(props, ctx);
    this.render(chart, props, ctx);
  }

  protected abstract defaults(ctx: AddOnContext): P;
  /** Throws AddOnValidationError via `this.fail`; nothing is created before it returns. */
  protected check(_props: P, _ctx: AddOnContext): void {}
  protected abstract render(chart: Chart, props: P, ctx: DeployContext): void;

  /** A declared identity needs the account (its role ARN) and a role on this cluster (aws-cluster makes one only where it is needed). */
  private checkIdentity(ctx: AddOnContext): void {
    if (!this.awsIdentity) return;
    if (!ctx.platform.settings.accountId) this.fail('awsIdentity', this.awsIdentity, 'expected platform-config settings.accountId: the role ARN names the account');
    if (!WORKLOAD_IDENTITIES[this.awsIdentity].neededBy(ctx.cluster)) {
      this.fail('awsIdentity', this.awsIdentity, `expected an identity cluster ${ctx.cluster.name} needs (its neededBy in platform-config workload-identities.ts): no role exists for it there`);
    }
  }

  protected fail(prop: string, value: unknown, expected: string): never {
    throw new AddOnValidationError(this.id, prop, value, expected);
  }

  /** Replicas of a controller on the control plane, one per control-plane zone (hard zone spread): 2 up to that count. */
  protected checkControlPlaneReplicas(replicas: number, ctx: AddOnContext): void {
    const zones = Math.min(ctx.cluster.controlPlane.count, ctx.cluster.availabilityZones.length);
    if (!Number.isInteger(replicas) || replicas < 2 || replicas > zones) {
      this.fail('replicas', replicas, `expected 2 to ${zones} (one per control-plane zone, spread is DoNotSchedule)`);
    }
  }
}
