import { gunzipSync } from 'node:zlib';
import type { RuntimeHints } from '../model';

const BASE64 = /^[A-Za-z0-9+/=\r\n]+$/;

/** User-data may be plain, base64 or base64(gzip): return every readable form. */
export function readableForms(text: string): string[] {
  const forms = [text];
  const trimmed = text.trim();
  if (trimmed.length >= 16 && BASE64.test(trimmed)) {
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        forms.push(gunzipSync(bytes).toString('utf8'));
      } catch {
        // not gzip after all; the plain decode below still gets a look
      }
    }
    forms.push(bytes.toString('utf8'));
  }
  return forms;
}

function durationSeconds(amount: string, unit: string | undefined): number {
  const n = Number(amount);
  if (unit === 'm' || unit === 'min') return n * 60;
  if (unit === 'h') return n * 3600;
  return n;
}

/** Flags as kubeadm writes them: `--flag=40s`, `flag: 40s`, or v1beta4 `name: flag` / `value: 40s`. */
export function flagSeconds(text: string, flag: string): number | undefined {
  const match = new RegExp(`${flag}["'\\s:=,]*(?:value["'\\s:=]*)?(\\d+)(ms|s|m|h)?`).exec(text);
  if (!match) return undefined;
  return match[2] === 'ms' ? Number(match[1]) / 1000 : durationSeconds(match[1], match[2] ?? 's');
}

/** etcd snapshot timers: systemd `OnUnitActiveSec=15min` / `OnCalendar=*:0/15`, or a cron `*\/15 * * * *`. */
function snapshotMinutes(text: string): number | undefined {
  if (!/etcd/i.test(text) || !/snapshot/i.test(text)) return undefined;
  const active = /OnUnitActiveSec=(\d+)\s*(min|m|s|h)?/.exec(text);
  if (active) return durationSeconds(active[1], active[2] ?? 's') / 60;
  const calendar = /OnCalendar=\*:0?\/(\d+)/.exec(text) ?? /OnCalendar=\*-\*-\* \*:0?\/(\d+)/.exec(text);
  if (calendar) return Number(calendar[1]);
  const cron = /\*\/(\d+) \* \* \* \*/.exec(text);
  return cron ? Number(cron[1]) : undefined;
}

/** The first value each text yields wins; texts are visited in a stable order by the caller. */
export function runtimeHints(texts: Iterable<string>): RuntimeHints {
  let grace: number | undefined;
  let toleration: number | undefined;
  let snapshot: number | undefined;
  let hpaSync: number | undefined;
  for (const raw of texts) {
    for (const text of readableForms(raw)) {
      grace ??= flagSeconds(text, 'node-monitor-grace-period');
      toleration ??= flagSeconds(text, 'default-unreachable-toleration-seconds');
      snapshot ??= snapshotMinutes(text);
      hpaSync ??= flagSeconds(text, 'horizontal-pod-autoscaler-sync-period');
    }
  }
  return {
    ...(grace !== undefined ? { nodeMonitorGracePeriodSeconds: grace } : {}),
    ...(toleration !== undefined ? { defaultUnreachableTolerationSeconds: toleration } : {}),
    ...(snapshot !== undefined ? { etcdSnapshotIntervalMinutes: snapshot } : {}),
    ...(hpaSync !== undefined ? { hpaSyncPeriodSeconds: hpaSync } : {}),
  };
}
