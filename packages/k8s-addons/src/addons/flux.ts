import { ApiObject, type Chart } from 'cdk8s';
import type { AddOnContext } from '../addon';
import { FLUX_OPERATOR_RELEASE } from '../releases';
import { CoreAddOn } from './core-addon';

/**
 * Flux managing itself: the flux-operator HelmRelease and the FluxInstance that installs the
 * controllers and syncs this cluster's path (`names.gitopsPath`), whose kustomization.yaml
 * lists only flux-system/: these objects and the layer Kustomizations, which apply the other
 * folders in dependsOn order. node-bootstrap creates both at first boot from core-addons'
 * `firstBootAddOns`, the same objects rendered here; from then on Flux applies them from Git,
 * so no `flux bootstrap` is ever run.
 */
export class Flux extends CoreAddOn {
  readonly id = 'flux';
  readonly layer = 'flux-system' as const;
  readonly release = FLUX_OPERATOR_RELEASE;
  protected readonly part = 'fluxOperator' as const;

  protected override extraObjects(chart: Chart, ctx: AddOnContext): void {
    // Whole, as core-addons builds it (a typed import would drop fields it does not know).
    new ApiObject(chart, 'Instance', structuredClone(this.firstBoot(ctx).fluxInstance));
  }
}
