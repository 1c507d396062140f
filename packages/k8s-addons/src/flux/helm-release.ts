import { Construct } from 'constructs';
import {
  HelmRelease,
  HelmReleaseSpecChartRefKind,
  HelmReleaseSpecChartSpecSourceRefKind,
  HelmReleaseSpecInstallCrds,
  HelmReleaseSpecUpgradeCrds,
  type HelmReleaseSpecPostRenderers,
} from '../imports/helm.toolkit.fluxcd.io';
import { HelmRepository, OciRepository, OciRepositorySpecLayerSelectorOperation } from '../imports/source.toolkit.fluxcd.io';
import type { NamespacedName } from '../addon';
import { FLUX_NAMESPACE, type ChartRelease } from '../releases';

export interface FluxHelmReleaseProps {
  readonly release: ChartRelease;
  /** Chart values. */
  readonly values: Record<string, unknown>;
  /** HelmReleases that must be Ready first. @default [] */
  readonly dependsOn?: readonly NamespacedName[];
  /** Kustomize patches applied to the rendered chart. @default - none */
  readonly postRenderers?: HelmReleaseSpecPostRenderers[];
  /** Install/upgrade timeout. @default '10m' */
  readonly timeout?: string;
}

/**
 * A HelmRelease and its chart source: a HelmRepository for `https://` charts, an
 * OCIRepository (chartRef) for `oci://` charts. Sources live in flux-system; CRDs are
 * created and upgraded with the chart; a failed install or upgrade is retried and rolled back.
 */
export class FluxHelmRelease extends Construct {
  readonly helmRelease: HelmRelease;

  constructor(scope: Construct, id: string, props: FluxHelmReleaseProps) {
    super(scope, id);
    const { release } = props;
    const oci = release.repository.url.startsWith('oci://');
    if (!oci && !release.repository.url.startsWith('https://')) {
      throw new Error(`release ${release.name}: repository.url is ${JSON.stringify(release.repository.url)}; expected an https:// or oci:// URL`);
    }
    if (!/^\d+\.\d+\.\d+$/.test(release.version)) {
      throw new Error(`release ${release.name}: version is ${JSON.stringify(release.version)}; expected an exact chart version such as 1.2.3`);
    }
    const sourceMeta = { name: release.repository.name, namespace: FLUX_NAMESPACE };
    if (oci) {
      new OciRepository(this, 'Source', {
        metadata: sourceMeta,
        spec: {
          interval: '12h',
          url: release.repository.url,
          ref: { tag: release.version },
          layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: OciRepositorySpecLayerSelectorOperation.COPY },
        },
      });
    } else {
      new HelmRepository(this, 'Source', { metadata: sourceMeta, spec: { interval: '12h', url: release.repository.url } });
    }
    this.helmRelease = new HelmRelease(this, 'Release', {
      metadata: { name: release.name, namespace: release.namespace },
      spec: {
        releaseName: release.name,
        interval: '30m',
        timeout: props.timeout ?? '10m',
        ...(oci
          ? { chartRef: { kind: HelmReleaseSpecChartRefKind.OCI_REPOSITORY, ...sourceMeta } }
          : { chart: { spec: { chart: release.chart, version: release.version, sourceRef: { kind: HelmReleaseSpecChartSpecSourceRefKind.HELM_REPOSITORY, ...sourceMeta }, interval: '12h' } } }),
        dependsOn: props.dependsOn?.length ? props.dependsOn.map((d) => ({ name: d.name, namespace: d.namespace })) : undefined,
        install: { crds: HelmReleaseSpecInstallCrds.CREATE_REPLACE, remediation: { retries: 3 } },
        upgrade: { crds: HelmReleaseSpecUpgradeCrds.CREATE_REPLACE, remediation: { retries: 3, remediateLastFailure: true }, cleanupOnFail: true },
        postRenderers: props.postRenderers,
        values: props.values,
      },
    });
  }
}
