import { gunzipSync } from 'node:zlib';
import { load } from 'js-yaml';
import type { RuntimeHints } from '../model';
import { flagSeconds, readableForms, runtimeHints } from './runtime-hints';

/**
 * A launch template's user data as ha-check can read it: the text, with every Terraform reference
 * it interpolates left as `${type.name.attr}`, and the files its cloud-config writes, by path.
 */
export interface UserData {
  readonly text: string;
  /** References interpolated into the text (`aws_lb.api.dns_name`), in order. */
  readonly references: readonly string[];
  /** cloud-config `write_files`, path → content (gz+b64 / b64 decoded). */
  readonly files: ReadonlyMap<string, string>;
}

const WRAPPED = /^\$\{base64(?:gzip|encode)\((.*)\)\}$/s;

/**
 * The list of a `join("", [ "text", aws_lb.x.dns_name, "text" ])` expression: JSON string literals
 * (with escaped newlines) and bare references, comma-separated.
 */
function joinedParts(expr: string): { text: string; references: string[] } | undefined {
  const m = /^join\(\s*""\s*,\s*\[(.*)\]\s*\)$/s.exec(expr.trim()) ?? /^()(".*")$/s.exec(expr.trim());
  if (!m) return undefined;
  const body = m[1] === '' && m[2] ? m[2] : m[1];
  let text = '';
  const references: string[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (c === ' ' || c === '\n' || c === '\t' || c === ',') {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      text += JSON.parse(body.slice(i, j + 1)) as string;
      i = j + 1;
    } else {
      let j = i;
      while (j < body.length && body[j] !== ',') j++;
      const ref = body.slice(i, j).trim();
      references.push(ref);
      text += `\${${ref}}`;
      i = j;
    }
  }
  return { text, references };
}

function decode(content: string, encoding: string | undefined): string {
  if (!encoding) return content;
  const bytes = Buffer.from(content, 'base64');
  return /gz|gzip/.test(encoding) ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
}

function writeFiles(text: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!text.startsWith('#cloud-config')) return files;
  let doc: unknown;
  try {
    doc = load(text);
  } catch {
    return files;
  }
  const entries = (doc as { write_files?: unknown })?.write_files;
  if (!Array.isArray(entries)) return files;
  for (const f of entries as Array<Record<string, unknown>>) {
    if (typeof f?.path !== 'string' || typeof f.content !== 'string') continue;
    try {
      files.set(f.path, decode(f.content, typeof f.encoding === 'string' ? f.encoding : undefined));
    } catch {
      // an undecodable file is left out; the others still count
    }
  }
  return files;
}

/** Reads user data: a CDKTF `${base64gzip(join("", [...]))}` expression, or plain / base64 / base64(gzip) text. */
const READ = new Map<string, UserData>();

export function readUserData(raw: string): UserData {
  // Launch templates share user data and several models read it: parse each text once.
  let ud = READ.get(raw);
  if (!ud) {
    ud = parseUserData(raw);
    if (READ.size > 256) READ.clear();
    READ.set(raw, ud);
  }
  return ud;
}

function parseUserData(raw: string): UserData {
  const wrapped = WRAPPED.exec(raw.trim());
  const joined = wrapped ? joinedParts(wrapped[1]) : undefined;
  if (joined) return { ...joined, files: writeFiles(joined.text) };
  // A plan leaves an interpolated user data unknown: only the one reference remains.
  const single = /^\$\{([a-z0-9_]+\.[^}]+)\}$/.exec(raw.trim());
  if (single) return { text: raw, references: [single[1]], files: new Map() };
  const forms = readableForms(raw);
  const text = forms.find((f) => f.startsWith('#cloud-config')) ?? forms[forms.length - 1] ?? raw;
  return { text, references: [], files: writeFiles(text) };
}

/** `KEY='value'` lines of a shell env file (node-bootstrap's /etc/node-bootstrap/env). */
export function envFile(content: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of content.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(\S*))\s*$/.exec(line);
    if (m) out.set(m[1], m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** A systemd unit's `Key=Value` settings, by section (`Timer.OnUnitActiveSec`). */
export function systemdUnit(content: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const line of content.split('\n')) {
    const t = line.trim();
    const s = /^\[(\w+)\]$/.exec(t);
    if (s) section = s[1];
    else if (t && !t.startsWith('#') && !t.startsWith(';') && t.includes('=')) out.set(`${section}.${t.slice(0, t.indexOf('=')).trim()}`, t.slice(t.indexOf('=') + 1).trim());
  }
  return out;
}

const SPAN_UNITS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400, w: 604800, week: 604800, weeks: 604800 };

/** A systemd time span (`900s`, `15min`, `1h 30min`, bare seconds) in seconds; undefined when not one. */
export function timeSpanSeconds(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  let total = 0;
  let rest = t;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.exec(rest);
    if (!m || SPAN_UNITS[m[2]] === undefined) return undefined;
    total += Number(m[1]) * SPAN_UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return t.length > 0 ? total : undefined;
}

/** The values a systemd calendar field list (`0/15`, `00,30`, `8..18`, `*`) takes over `0..range-1`. */
function fieldValues(field: string, range: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const step = /^(\d+|\*)(?:\.\.(\d+))?\/(\d+)$/.exec(part);
    const span = /^(\d+)\.\.(\d+)$/.exec(part);
    if (part === '*') for (let v = 0; v < range; v++) values.add(v);
    else if (step) for (let v = step[1] === '*' ? 0 : Number(step[1]); v <= (step[2] !== undefined ? Number(step[2]) : range - 1); v += Math.max(Number(step[3]), 1)) values.add(v);
    else if (span) for (let v = Number(span[1]); v <= Number(span[2]); v++) values.add(v);
    else if (/^\d+$/.test(part)) values.add(Number(part));
    else return undefined;
  }
  const sorted = [...values].filter((v) => v < range).sort((a, b) => a - b);
  return sorted.length > 0 ? sorted : undefined;
}

/**
 * The longest interval, in minutes, between two elapses of a systemd `OnCalendar=` expression
 * (systemd.time(7)): the shorthands (`minutely`, `hourly`, `daily`, `weekly`) and `[*-*-*] HH:MM[:SS]`
 * with `*`, lists, ranges and `/` repetitions in the hour and minute fields (every run of a day,
 * the gap across midnight included). undefined when it is not one ha-check understands (a weekday
 * or day-of-month restriction).
 */
export function calendarIntervalMinutes(expression: string): number | undefined {
  const shorthand: Record<string, number> = { minutely: 1, hourly: 60, daily: 1440, weekly: 10080 };
  const e = expression.trim().toLowerCase();
  if (shorthand[e] !== undefined) return shorthand[e];
  const parts = e.split(/\s+/);
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== '*-*-*')) return undefined;
  const [hour, minute = '00'] = parts[parts.length - 1].split(':');
  const hours = fieldValues(hour, 24);
  const minutes = fieldValues(minute, 60);
  if (!hours || !minutes) return undefined;
  const runs = hours.flatMap((h) => minutes.map((m) => h * 60 + m));
  let gap = runs[0] + 1440 - runs[runs.length - 1];
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i] - runs[i - 1]);
  return gap;
}

/** The systemd timer node-bootstrap writes for etcd snapshots, by name (not the first timer found). */
const ETCD_SNAPSHOT_TIMER = 'etcd-snapshot.timer';

/** A timer's interval in minutes: `OnUnitActiveSec` (a time span) or `OnCalendar` (a calendar expression). */
function timerMinutes(unit: ReadonlyMap<string, string>): number | undefined {
  const active = unit.get('Timer.OnUnitActiveSec');
  const span = active !== undefined ? timeSpanSeconds(active) : undefined;
  if (span !== undefined) return span / 60;
  const calendar = unit.get('Timer.OnCalendar');
  return calendar !== undefined ? calendarIntervalMinutes(calendar) : undefined;
}

/**
 * Runtime settings from user data, read the way the node reads them: the kubeadm configuration
 * files (controller-manager and API server extra args) and the etcd snapshot timer unit, by name.
 * User data that is no cloud-config with files falls back to searching its text.
 */
export function userDataHints(raw: string): RuntimeHints {
  const ud = readUserData(raw);
  if (ud.files.size === 0) return runtimeHints([ud.text]);
  let grace: number | undefined;
  let toleration: number | undefined;
  let snapshot: number | undefined;
  let hpaSync: number | undefined;
  for (const [path, content] of ud.files) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (/^kubeadm-(init|config|join)[\w.-]*\.ya?ml(\.tmpl)?$/.test(name)) {
      grace ??= flagSeconds(content, 'node-monitor-grace-period');
      toleration ??= flagSeconds(content, 'default-unreachable-toleration-seconds');
      hpaSync ??= flagSeconds(content, 'horizontal-pod-autoscaler-sync-period');
    }
    if (name === ETCD_SNAPSHOT_TIMER) snapshot ??= timerMinutes(systemdUnit(content));
  }
  return {
    ...(grace !== undefined ? { nodeMonitorGracePeriodSeconds: grace } : {}),
    ...(hpaSync !== undefined ? { hpaSyncPeriodSeconds: hpaSync } : {}),
    ...(toleration !== undefined ? { defaultUnreachableTolerationSeconds: toleration } : {}),
    ...(snapshot !== undefined ? { etcdSnapshotIntervalMinutes: snapshot } : {}),
  };
}

/** Taints the kubeadm join configuration registers the node with (`nodeRegistration.taints`), by file name. */
export function joinTaints(raw: string): Array<{ key: string; value: string; effect: string }> {
  for (const [path, content] of readUserData(raw).files) {
    if (!/kubeadm-join[\w.-]*\.ya?ml(\.tmpl)?$/.test(path)) continue;
    let doc: unknown;
    try {
      doc = load(content);
    } catch {
      continue;
    }
    const reg = (doc as { nodeRegistration?: { taints?: unknown } } | undefined)?.nodeRegistration;
    const taints = Array.isArray(reg?.taints) ? reg.taints : [];
    return taints
      .filter((t): t is Record<string, unknown> => typeof t === 'object' && t !== null && typeof (t as { key?: unknown }).key === 'string')
      .map((t) => ({ key: String(t.key), value: typeof t.value === 'string' ? t.value : '', effect: typeof t.effect === 'string' ? t.effect : 'NoSchedule' }));
  }
  return [];
}
