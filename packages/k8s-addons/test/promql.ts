import { parser } from '@prometheus-io/lezer-promql';

/*
 * PromQL for the alert tests: the real parser (Prometheus' own Lezer grammar, the one its UI
 * uses) for syntax, and a small instant-query evaluator over synthetic series for the
 * semantics. The evaluator knows only what the platform's alerts use (selectors, numbers,
 * arithmetic, comparisons, and/or/unless, on()/group_left(), count/sum/min/max by, floor,
 * vector, time, absent_over_time); anything else throws, so an alert using more cannot pass
 * untested. A sample may carry the time it was scraped (`at`, epoch seconds; none: at the
 * evaluation time): an instant selector sees the newest sample of each series within
 * Prometheus' 5-minute lookback, a range selector every sample in its window.
 */

type Node = ReturnType<typeof parser.parse>['topNode'];
export type Labels = Readonly<Record<string, string>>;
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  /** Scrape time in epoch seconds; undefined: at the evaluation time. */
  readonly at?: number;
}

/** Prometheus' default lookback for instant selectors. */
const LOOKBACK_SECONDS = 300;
const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
type Value = { readonly kind: 'scalar'; readonly value: number } | { readonly kind: 'vector'; readonly samples: readonly Sample[] };

/** Syntax errors of `expr` as `offset: text` (empty when it parses). */
export function promqlSyntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`${n.from}: ${JSON.stringify(expr.slice(n.from, Math.max(n.to, n.from + 10)))}`);
    },
  });
  return errors;
}

/** The metric names `expr` selects. */
export function selectedMetrics(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.name === 'VectorSelector') names.add(text(expr, n.node.getChild('Identifier')));
    },
  });
  return [...names].sort();
}

/**
 * Evaluates `expr` at one instant (`time`, epoch seconds, what `time()` returns) over `series`
 * (each a labelled value; `__name__` is the metric). Results carry no `at`.
 */
export function evaluate(expr: string, series: readonly Sample[], time = 0): Sample[] {
  const errors = promqlSyntaxErrors(expr);
  if (errors.length > 0) throw new Error(`syntax errors in ${expr}: ${errors.join(', ')}`);
  const result = new Evaluator(expr, series, time).eval(parser.parse(expr).topNode);
  return result.kind === 'vector' ? result.samples.map(({ labels, value }) => ({ labels, value })) : [{ labels: {}, value: result.value }];
}

function text(expr: string, node: Node | null): string {
  if (!node) throw new Error('missing node');
  return expr.slice(node.from, node.to);
}

const key = (labels: Labels, names?: readonly string[]) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => (names ? names.includes(k) : k !== '__name__'))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
const withoutName = ({ __name__: _drop, ...rest }: Labels) => rest;
const pick = (labels: Labels, names: readonly string[]) => Object.fromEntries(names.filter((n) => n in labels).map((n) => [n, labels[n]!]));

const ARITHMETIC: Partial<Record<string, (a: number, b: number) => number>> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b };
const COMPARISON: Partial<Record<string, (a: number, b: number) => boolean>> = {
  Eql: (a, b) => a === b,
  Neq: (a, b) => a !== b,
  Gtr: (a, b) => a > b,
  Lss: (a, b) => a < b,
  Gte: (a, b) => a >= b,
  Lte: (a, b) => a <= b,
};
const AGGREGATE: Partial<Record<string, (values: number[]) => number>> = {
  Count: (v) => v.length,
  Sum: (v) => v.reduce((a, b) => a + b, 0),
  Max: (v) => Math.max(...v),
  Min: (v) => Math.min(...v),
};

class Evaluator {
  constructor(
    private readonly expr: string,
    private readonly series: readonly Sample[],
    private readonly time: number,
  ) {}

  private children(node: Node): Node[] {
    const out: Node[] = [];
    for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  private unsupported(node: Node): never {
    throw new Error(`the test evaluator does not support ${node.name} (${text(this.expr, node)})`);
  }

  eval(node: Node): Value {
    switch (node.name) {
      case 'PromQL':
      case 'ParenExpr':
        return this.eval(this.children(node)[0]!);
      case 'NumberDurationLiteral':
        return { kind: 'scalar', value: Number(text(this.expr, node)) };
      case 'VectorSelector':
        return this.select(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'FunctionCall':
        return this.call(node);
      case 'BinaryExpr':
        return this.binary(node);
      default:
        return this.unsupported(node);
    }
  }

  /** An instant selector: the newest sample of each matching series within the lookback. */
  private select(node: Node): Value {
    const newest = new Map<string, Sample>();
    for (const s of this.matching(node, LOOKBACK_SECONDS)) {
      const k = key(s.labels, undefined) + (s.labels.__name__ ?? '');
      if ((newest.get(k)?.at ?? -Infinity) <= (s.at ?? this.time)) newest.set(k, s);
    }
    return { kind: 'vector', samples: [...newest.values()] };
  }

  /** Equality matchers of a selector: the labels `absent_over_time` gives its result. */
  private equalityLabels(node: Node): Labels {
    const matchers = node.getChild('LabelMatchers') ? this.children(node.getChild('LabelMatchers')!) : [];
    return Object.fromEntries(
      matchers.filter((m) => m.getChild('MatchOp')!.firstChild!.name === 'EqlSingle').map((m) => [text(this.expr, m.getChild('LabelName')), JSON.parse(text(this.expr, m.getChild('StringLiteral'))) as string]),
    );
  }

  /** Samples of the selector `node` scraped in (time − windowSeconds, time]. */
  private matching(node: Node, windowSeconds: number): Sample[] {
    const name = text(this.expr, node.getChild('Identifier'));
    const matchers = (node.getChild('LabelMatchers') ? this.children(node.getChild('LabelMatchers')!) : []).map((m) => {
      if (m.name !== 'UnquotedLabelMatcher') this.unsupported(m);
      const op = m.getChild('MatchOp')!.firstChild!.name;
      const value = JSON.parse(text(this.expr, m.getChild('StringLiteral'))) as string;
      return { label: text(this.expr, m.getChild('LabelName')), op, value };
    });
    const matches = (labels: Labels) =>
      matchers.every(({ label, op, value }) => {
        const actual = labels[label] ?? '';
        if (op === 'EqlSingle') return actual === value;
        if (op === 'Neq') return actual !== value;
        const re = new RegExp(`^(?:${value})$`);
        return op === 'EqlRegex' ? re.test(actual) : !re.test(actual);
      });
    const inWindow = (s: Sample) => (s.at ?? this.time) <= this.time && (s.at ?? this.time) > this.time - windowSeconds;
    return this.series.filter((s) => s.labels.__name__ === name && matches(s.labels) && inWindow(s));
  }

  private aggregate(node: Node): Value {
    const op = node.getChild('AggregateOp')!.firstChild!.name;
    const fn = AGGREGATE[op] ?? this.unsupported(node);
    const modifier = node.getChild('AggregateModifier');
    if (modifier && !modifier.getChild('By')) this.unsupported(modifier);
    const by = modifier ? this.children(modifier.getChild('GroupingLabels')!).map((l) => text(this.expr, l)) : [];
    const inner = this.eval(this.children(node.getChild('FunctionCallBody')!)[0]!);
    if (inner.kind !== 'vector') return this.unsupported(node);
    const groups = new Map<string, { labels: Labels; values: number[] }>();
    for (const s of inner.samples) {
      const k = key(s.labels, by);
      if (!groups.has(k)) groups.set(k, { labels: pick(s.labels, by), values: [] });
      groups.get(k)!.values.push(s.value);
    }
    return { kind: 'vector', samples: [...groups.values()].map((g) => ({ labels: g.labels, value: fn(g.values) })) };
  }

  private call(node: Node): Value {
    const fn = node.getChild('FunctionIdentifier')!.firstChild!.name;
    const argNodes = this.children(node.getChild('FunctionCallBody')!);
    if (fn === 'Time' && argNodes.length === 0) return { kind: 'scalar', value: this.time };
    if (fn === 'AbsentOverTime' && argNodes[0]?.name === 'MatrixSelector') {
      const matrix = argNodes[0];
      const selector = matrix.getChild('VectorSelector') ?? this.unsupported(matrix);
      const duration = /^(\d+)([smhdw])$/.exec(text(this.expr, matrix.getChild('DurationExpr')));
      if (!duration) return this.unsupported(matrix);
      const present = this.matching(selector, Number(duration[1]) * DURATION_UNITS[duration[2]!]!).length > 0;
      return { kind: 'vector', samples: present ? [] : [{ labels: this.equalityLabels(selector), value: 1 }] };
    }
    const args = argNodes.map((a) => this.eval(a));
    if (fn === 'Floor' && args[0]?.kind === 'vector') return { kind: 'vector', samples: args[0].samples.map((s) => ({ labels: withoutName(s.labels), value: Math.floor(s.value) })) };
    if (fn === 'Vector' && args[0]?.kind === 'scalar') return { kind: 'vector', samples: [{ labels: {}, value: args[0].value }] };
    return this.unsupported(node);
  }

  private binary(node: Node): Value {
    const parts = this.children(node);
    const [leftNode, opNode] = parts;
    const rightNode = parts[parts.length - 1]!;
    const op = opNode!.name;
    const matching = node.getChild('MatchingModifierClause');
    if (node.getChild('BoolModifier')) this.unsupported(node);
    const left = this.eval(leftNode!);
    const right = this.eval(rightNode);
    const arithmetic = ARITHMETIC[op];
    const comparison = COMPARISON[op];

    if (left.kind === 'scalar' && right.kind === 'scalar') {
      if (!arithmetic) return this.unsupported(node);
      return { kind: 'scalar', value: arithmetic(left.value, right.value) };
    }
    if (left.kind === 'scalar' || right.kind === 'scalar') {
      const vector = (left.kind === 'vector' ? left : right) as Extract<Value, { kind: 'vector' }>;
      const scalar = (left.kind === 'scalar' ? left : right) as Extract<Value, { kind: 'scalar' }>;
      const args = (v: number): [number, number] => (left.kind === 'vector' ? [v, scalar.value] : [scalar.value, v]);
      if (arithmetic) return { kind: 'vector', samples: vector.samples.map((s) => ({ labels: withoutName(s.labels), value: arithmetic(...args(s.value)) })) };
      if (comparison) return { kind: 'vector', samples: vector.samples.filter((s) => comparison(...args(s.value))) };
      return this.unsupported(node);
    }

    const on = matching?.getChild('On') ? this.children(matching.getChild('GroupingLabels')!).map((l) => text(this.expr, l)) : undefined;
    if (matching?.getChild('Ignoring') || matching?.getChild('GroupRight')) this.unsupported(matching);
    const groupLeft = matching?.getChild('GroupLeft');
    const include = groupLeft ? matching!.getChildren('GroupingLabels')[1] : undefined;
    const included = include ? this.children(include).map((l) => text(this.expr, l)) : [];
    const signature = (labels: Labels) => key(labels, on);
    const rightBySignature = new Map<string, Sample[]>();
    for (const s of right.samples) rightBySignature.set(signature(s.labels), [...(rightBySignature.get(signature(s.labels)) ?? []), s]);

    if (op === 'And') return { kind: 'vector', samples: left.samples.filter((s) => rightBySignature.has(signature(s.labels))) };
    if (op === 'Unless') return { kind: 'vector', samples: left.samples.filter((s) => !rightBySignature.has(signature(s.labels))) };
    if (op === 'Or') {
      const leftSignatures = new Set(left.samples.map((s) => signature(s.labels)));
      return { kind: 'vector', samples: [...left.samples, ...right.samples.filter((s) => !leftSignatures.has(signature(s.labels)))] };
    }
    if (!arithmetic && !comparison) return this.unsupported(node);
    const out: Sample[] = [];
    const seen = new Set<string>();
    for (const l of left.samples) {
      const matches = rightBySignature.get(signature(l.labels)) ?? [];
      if (matches.length === 0) continue;
      if (matches.length > 1) throw new Error(`many-to-many matching in ${text(this.expr, node)}`);
      const r = matches[0]!;
      let labels: Labels = arithmetic ? withoutName(l.labels) : l.labels;
      if (groupLeft) labels = { ...labels, ...pick(r.labels, included) };
      else if (on) labels = pick(labels, on);
      const k = key(labels, undefined);
      if (!groupLeft && seen.has(k)) throw new Error(`many-to-one matching without group_left in ${text(this.expr, node)}`);
      seen.add(k);
      if (arithmetic) out.push({ labels, value: arithmetic(l.value, r.value) });
      else if (comparison?.(l.value, r.value)) out.push({ labels, value: l.value });
    }
    return { kind: 'vector', samples: out };
  }
}
