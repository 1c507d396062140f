import type { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';

/** A namespace the add-on owns (Flux prunes it with the add-on). */
export function ownNamespace(chart: Chart, name: string): k8s.KubeNamespace {
  return new k8s.KubeNamespace(chart, `Namespace-${name}`, { metadata: { name } });
}
