import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { chartDefaults, chartDir, helmMerge, isMap, type Values } from './charts';

/**
 * Checks of our Helm values against the real chart defaults: every key we set must exist in
 * the chart's values.yaml (or be documented there as a commented-out example, or be a key
 * the chart's templates read that values.yaml omits), and the values Helm would coalesce must
 * validate against the chart's values.schema.json where it ships one.
 */

/**
 * Keys a chart's templates read although its values.yaml does not list them, with where.
 * Chart path → key paths.
 */
export const TEMPLATE_ONLY_KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'aws-cloud-controller-manager/0.0.10': {
    // templates/daemonset.yaml at tag helm-chart-aws-cloud-controller-manager-0.0.10:
    // `{{- if .Values.hostNetworking }} hostNetwork: true {{- end }}`.
    hostNetworking: 'read by templates/daemonset.yaml (hostNetwork: true); not listed in values.yaml',
  },
  'traefik/37.3.0': {
    // The templates range over `.Values.ports`: every key is an entrypoint (its fields those of `web`).
    'ports.scaleday': 'an entrypoint of our own (platform-config SCALE_DAY_INGRESS); the templates render one per key of ports',
  },
};

/**
 * Pinned charts whose defaults cannot be checked here, and why. A pinned chart missing from
 * ../shared/charts and from this list fails.
 */
export const UNCHECKED_CHARTS: Readonly<Record<string, string>> = {
  'aws-node-termination-handler/0.27.6': 'not in ../shared/charts: every key set by NodeTerminationHandler was checked by hand against upstream config/helm/aws-node-termination-handler/values.yaml (aws/aws-node-termination-handler 62a8761, chart 0.27.6); add the chart folder to shared/charts to check it here',
  'flux-operator/0.58.1': 'chart source not available (controlplaneio-fluxcd/charts has nothing past 0.49.0; see shared/charts/SOURCES.txt)',
};

/** One key path a chart's values.yaml does not know. */
export interface UnknownKey {
  readonly path: string;
  readonly value: unknown;
}

/** Map keys whose contents are free-form whatever their default (labels, selectors, extra args). */
const FREE_FORM = new Set([
  'extraArgs',
  'podLabels',
  'podAnnotations',
  'nodeSelector',
  'annotations',
  'labels',
  'commonLabels',
  'commonAnnotations',
  'additionalLabels',
  'additionalAnnotations',
  'serviceAnnotations',
  'deploymentAnnotations',
  'matchLabels',
  'env',
  'extraEnv',
  'resources',
  'securityContext',
  'podSecurityContext',
  'containerSecurityContext',
  'affinity',
  'tolerations',
  'topologySpreadConstraints',
]);

/** An uncommented `key:` line (not a list item). */
const KEY_LINE = /^(\s*)([^\s#-][^:#]*?|"[^"]*"|'[^']*'):(\s|$)/;

/** Where each key path of a values.yaml is, and the commented-out keys of its block. */
class ValuesText {
  private readonly lines: string[];
  constructor(text: string) {
    this.lines = text.split('\n');
  }

  /** The lines of the block of `path` (the whole file for the root); undefined when not found. */
  private block(path: readonly string[]): [number, number] | undefined {
    let from = 0;
    let to = this.lines.length;
    for (const key of path) {
      // Direct children: the key lines of the block at its smallest indentation.
      const keys = this.lines.slice(from, to).flatMap((line, i) => {
        const m = KEY_LINE.exec(line);
        return m ? [{ at: from + i, indent: m[1]!.length, key: m[2]!.replace(/^["']|["']$/g, '') }] : [];
      });
      if (!keys.length) return undefined;
      const indent = Math.min(...keys.map((k) => k.indent));
      const found = keys.find((k) => k.indent === indent && k.key === key);
      if (!found) return undefined;
      from = found.at + 1;
      const next = keys.find((k) => k.at > found.at && k.indent <= indent);
      to = next ? next.at : to;
    }
    return [from, to];
  }

  /** `key` appears as a commented-out example (`# key:`) inside the block of `parent`. */
  commentedKey(parent: readonly string[], key: string): boolean {
    const range = this.block(parent);
    if (!range) return false;
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^\\s*#+\\s*(-\\s+)?["']?${escaped}["']?\\s*:`);
    return this.lines.slice(range[0], range[1]).some((line) => pattern.test(line));
  }
}

/** A chart's defaults: values.yaml, its text (for commented keys) and its subcharts'. */
export interface ChartDefaults {
  readonly id: string;
  readonly values: Values;
  readonly texts: readonly { readonly prefix: readonly string[]; readonly text: ValuesText }[];
  readonly schema?: AnySchema;
}

const loaded = new Map<string, ChartDefaults>();

/** The chart's defaults (read once per chart and version). */
export function loadChart(chart: string, version: string): ChartDefaults {
  const id = `${chart}/${version}`;
  if (!loaded.has(id)) loaded.set(id, readChart(chart, version));
  return loaded.get(id)!;
}

function readChart(chart: string, version: string): ChartDefaults {
  const dir = chartDir(chart, version);
  let values = chartDefaults(chart, version);
  const texts = [{ prefix: [] as string[], text: new ValuesText(readFileSync(join(dir, 'values.yaml'), 'utf8')) }];
  // Subcharts (kube-prometheus-stack's charts/<name>/): their defaults under their name, the
  // parent's values for that name over them (Helm's coalescing).
  const subchartsDir = join(dir, 'charts');
  if (existsSync(subchartsDir)) {
    for (const sub of ['crds', 'grafana', 'kube-state-metrics', 'prometheus-node-exporter']) {
      const file = join(subchartsDir, sub, 'values.yaml');
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      const subValues = (parse(text) ?? {}) as Values;
      values = { ...values, [sub]: helmMerge(subValues, values[sub] ?? {}) };
      texts.push({ prefix: [sub], text: new ValuesText(text) });
    }
  }
  const schemaFile = join(dir, 'values.schema.json');
  return { id: `${chart}/${version}`, values, texts, schema: existsSync(schemaFile) ? (JSON.parse(readFileSync(schemaFile, 'utf8')) as AnySchema) : undefined };
}

/** Every key path of `ours` the chart does not define, document or read. */
export function unknownKeys(chart: ChartDefaults, ours: Values): UnknownKey[] {
  const templateOnly = TEMPLATE_ONLY_KEYS[chart.id] ?? {};
  const out: UnknownKey[] = [];
  const walk = (value: Values, defaults: unknown, path: string[]) => {
    for (const [key, v] of Object.entries(value)) {
      const at = [...path, key];
      if (templateOnly[at.join('.')]) continue;
      const known = isMap(defaults) && key in defaults;
      if (!known) {
        const documented = chart.texts.some(({ prefix, text }) => prefix.every((p, i) => at[i] === p) && at.length > prefix.length && text.commentedKey(at.slice(prefix.length, -1), key));
        if (!documented) out.push({ path: at.join('.'), value: v });
        continue;
      }
      const d = (defaults as Values)[key];
      if (FREE_FORM.has(key) || !isMap(v)) continue;
      // A map where the chart has a scalar: the template cannot read it as we mean it.
      if (d !== null && d !== undefined && typeof d !== 'object') {
        out.push({ path: at.join('.'), value: v });
        continue;
      }
      // Free-form: an empty default map, a list, or a null placeholder.
      if (!isMap(d) || Object.keys(d).length === 0) continue;
      walk(v, d, at);
    }
  };
  walk(ours, chart.values, []);
  return out;
}

function ajvFor(schema: AnySchema) {
  const draft = typeof schema === 'object' && schema !== null && '$schema' in schema ? String((schema as { $schema: unknown }).$schema) : '';
  const options = { strict: false, allErrors: true, validateFormats: true } as const;
  // Helm 3.19 validates with a draft-2020-12 default when a schema names no draft.
  const ajv = draft.includes('draft-07') || draft.includes('draft-04') || draft.includes('draft-06') ? new Ajv(options) : draft.includes('2019-09') ? new Ajv2019(options) : new Ajv2020(options);
  addFormats(ajv);
  return ajv;
}

/** Our values coalesced over the chart defaults, validated against values.schema.json (none: []). */
const validators = new WeakMap<ChartDefaults, ValidateFunction>();

export function schemaErrors(chart: ChartDefaults, ours: Values): ErrorObject[] {
  if (!chart.schema) return [];
  if (!validators.has(chart)) validators.set(chart, ajvFor(chart.schema).compile(chart.schema));
  const validate = validators.get(chart)!;
  return validate(helmMerge(chart.values, ours)) ? [] : (validate.errors ?? []);
}
