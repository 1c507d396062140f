import { firstBootAddOns, type FirstBootAddOns } from '@platform/core-addons';
import type { Chart } from 'cdk8s';
import { AddOnBase, type AddOnContext, type DeployContext } from '../addon';
import { FluxHelmRelease } from '../flux/helm-release';
import type { ChartRelease } from '../releases';

/**
 * An add-on the first control-plane node installs before Flux runs (core-addons owns its pin,
 * values and objects). It only renders them: no props, because anything an add-on prop changed
 * would differ from what the node installed; what varies per cluster comes from the cluster
 * definition, through core-addons.
 */
export abstract class CoreAddOn extends AddOnBase<Record<string, never>> {
  abstract readonly release: ChartRelease;
  /** Which first-boot release this add-on renders. */
  protected abstract readonly part: Exclude<keyof FirstBootAddOns, 'fluxInstance'>;

  constructor() {
    super({});
  }

  protected defaults(): Record<string, never> {
    return {};
  }

  protected firstBoot(ctx: AddOnContext): FirstBootAddOns {
    return firstBootAddOns(ctx.cluster, ctx.platform.settings, ctx.names);
  }

  /** Objects besides the release (the FluxInstance). */
  protected extraObjects(_chart: Chart, _ctx: AddOnContext): void {}

  protected render(chart: Chart, _props: Record<string, never>, ctx: DeployContext): void {
    this.extraObjects(chart, ctx);
    new FluxHelmRelease(chart, 'Helm', {
      release: this.release,
      values: structuredClone(this.firstBoot(ctx)[this.part].values),
      dependsOn: ctx.dependsOnReleases,
    });
  }
}
