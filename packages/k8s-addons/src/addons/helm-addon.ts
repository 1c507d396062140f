import type { Chart } from 'cdk8s';
import { AddOnBase, type AddOnContext, type DeployContext } from '../addon';
import { FluxHelmRelease } from '../flux/helm-release';
import type { HelmReleaseSpecPostRenderers } from '../imports/helm.toolkit.fluxcd.io';
import { deepMerge } from '../private/merge';
import type { ChartRelease } from '../releases';

/** Props every chart add-on has: raw chart values merged last, for what the typed props do not cover. */
export interface HelmAddOnProps {
  /** Extra chart values, deep-merged over the computed ones. @default {} */
  readonly values: Record<string, unknown>;
}

/**
 * An add-on that is one pinned Helm chart: subclasses compute values from typed props and
 * the cluster; the base writes the source and the HelmRelease, waiting for same-layer
 * dependencies' releases.
 */
export abstract class HelmAddOn<P extends HelmAddOnProps> extends AddOnBase<P> {
  abstract readonly release: ChartRelease;

  protected abstract chartValues(props: P, ctx: AddOnContext): Record<string, unknown>;

  /** Kustomize patches on the rendered chart, for what its values cannot express. */
  protected postRenderers(_props: P, _ctx: AddOnContext): HelmReleaseSpecPostRenderers[] | undefined {
    return undefined;
  }

  /** Objects besides the release (namespaces, storage classes). */
  protected extraObjects(_chart: Chart, _props: P, _ctx: AddOnContext): void {}

  protected render(chart: Chart, props: P, ctx: DeployContext): void {
    this.extraObjects(chart, props, ctx);
    new FluxHelmRelease(chart, 'Helm', {
      release: this.release,
      values: deepMerge(this.chartValues(props, ctx), props.values),
      dependsOn: ctx.dependsOnReleases,
      postRenderers: this.postRenderers(props, ctx),
    });
  }
}
