import { ApiObject, App, Chart } from 'cdk8s';
import { FLUX_LAYERS, type AddOn, type AddOnClass, type AddOnContext, type FluxLayer, type NamespacedName } from './addon';
import { fluxLayerKustomizations, LAYER_FOLDERS } from './flux/flux-layers';
import { renderTree, type ClusterTree } from './private/render';

/**
 * Holds a cluster's add-ons, checks the graph (unique ids, dependencies registered and in
 * the same or an earlier layer, no cycles) and synthesizes them into the Flux tree:
 * one file per add-on in its layer's folder, plus the layer Kustomizations in flux-system/,
 * the only folder the cluster root's kustomization.yaml lists.
 */
export class AddOnRegistry {
  private readonly addOns: AddOn[] = [];

  constructor(addOns: readonly AddOn[] = []) {
    addOns.forEach((a) => this.add(a));
  }

  add(addOn: AddOn): this {
    const clash = this.addOns.find((a) => a.id === addOn.id);
    if (clash) throw new Error(`add-on id ${JSON.stringify(addOn.id)} is registered twice; expected unique ids`);
    this.addOns.push(addOn);
    return this;
  }

  /** The registered instance of `cls`; throws naming the dependent when missing. */
  private instanceOf(cls: AddOnClass, dependent: AddOn): AddOn {
    const found = this.addOns.find((a) => a instanceof cls);
    if (!found) throw new Error(`${dependent.id} depends on ${cls.name}, which is not registered; expected it in the registry`);
    return found;
  }

  /** Add-ons in deploy order: by layer, then dependencies first, otherwise registration order. */
  ordered(): AddOn[] {
    const done = new Set<AddOn>();
    const visiting = new Set<AddOn>();
    const out: AddOn[] = [];
    const visit = (addOn: AddOn, trail: string[]) => {
      if (done.has(addOn)) return;
      if (visiting.has(addOn)) throw new Error(`add-on dependency cycle: ${[...trail, addOn.id].join(' -> ')}`);
      visiting.add(addOn);
      for (const cls of addOn.dependencies) {
        const dep = this.instanceOf(cls, addOn);
        if (FLUX_LAYERS.indexOf(dep.layer) > FLUX_LAYERS.indexOf(addOn.layer)) {
          throw new Error(`${addOn.id} (layer ${addOn.layer}) depends on ${dep.id} (layer ${dep.layer}); expected a dependency in the same or an earlier layer`);
        }
        visit(dep, [...trail, addOn.id]);
      }
      visiting.delete(addOn);
      done.add(addOn);
      out.push(addOn);
    };
    this.addOns.forEach((a) => visit(a, []));
    return FLUX_LAYERS.flatMap((layer) => out.filter((a) => a.layer === layer));
  }

  /** Validates every add-on first, then deploys each into its own chart and renders the tree. */
  synth(ctx: AddOnContext): ClusterTree {
    const ordered = this.ordered();
    ordered.forEach((a) => a.validate(ctx));
    const app = new App();
    const releases = new Map<AddOn, NamespacedName[]>();
    const charts: { layer: FluxLayer; id: string; chart: Chart }[] = [];
    for (const addOn of ordered) {
      const sameLayerDeps = addOn.dependencies.map((cls) => this.instanceOf(cls, addOn)).filter((d) => d.layer === addOn.layer);
      const chart = new Chart(app, addOn.id, { disableResourceNameHashes: true });
      addOn.deploy(chart, { ...ctx, dependsOnReleases: sameLayerDeps.flatMap((d) => releases.get(d) ?? []) });
      releases.set(addOn, helmReleasesIn(chart));
      charts.push({ layer: addOn.layer, id: addOn.id, chart });
    }
    const layers = [...new Set(charts.map((c) => c.layer))].filter((l) => l !== 'flux-system');
    const layerChart = new Chart(app, 'flux-layers', { disableResourceNameHashes: true });
    fluxLayerKustomizations(layerChart, ctx, layers);
    charts.push({ layer: 'flux-system', id: 'flux-layers', chart: layerChart });
    return renderTree(
      charts.map((c) => ({ folder: LAYER_FOLDERS[c.layer], file: `${c.id}.yaml`, objects: c.chart.toJson() })),
      LAYER_FOLDERS['flux-system'],
    );
  }
}

function helmReleasesIn(chart: Chart): NamespacedName[] {
  return chart.node
    .findAll()
    .filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'HelmRelease')
    .map((o) => ({ name: o.metadata.name!, namespace: o.metadata.namespace! }));
}
