import { IDEMPOTENCE_ARTEFACTS, type IdempotenceArtefact } from './emulator-gaps';
import type { StackJson } from './stack-copy';

type Lifecycles = Record<string, Record<string, { lifecycle: { ignore_changes: string[] } }>>;

/**
 * The `resource` part of the e2e override: for every resource an emulator artefact can show on,
 * `lifecycle.ignore_changes` with the artefact's paths, so a plan of an untouched stack (the
 * idempotence phase's, the drift command's) reports no changes by itself. Terraform merges an
 * override's lifecycle block argument by argument, so `prevent_destroy` and the rest stay; but an
 * overridden `ignore_changes` replaces the original list, so the stack's own entries are repeated.
 * A resource that already ignores `all` is left alone. Artefacts no ignore_changes can express
 * (`follows`, `harness`) add nothing here.
 */
export function artefactIgnores(stack: StackJson, artefacts: readonly IdempotenceArtefact[] = IDEMPOTENCE_ARTEFACTS): Lifecycles {
  const out: Lifecycles = {};
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    const silencing = artefacts.filter((a) => a.type === type).map((a) => a.silenced);
    for (const [name, config] of Object.entries(byName)) {
      const paths = silencing.flatMap((s) => ('ignore' in s ? s.ignore(config) : []));
      if (paths.length === 0) continue;
      const own = (config.lifecycle as { ignore_changes?: unknown } | undefined)?.ignore_changes;
      if (own === 'all') continue;
      const kept = Array.isArray(own) ? own.map(String) : [];
      (out[type] ??= {})[name] = { lifecycle: { ignore_changes: [...new Set([...kept, ...paths])] } };
    }
  }
  return out;
}

/** An emulator override with the artefacts' ignore_changes added (no `resource` key when there are none). */
export function withArtefactIgnores(override: Record<string, unknown>, stack: StackJson): Record<string, unknown> {
  const resource = artefactIgnores(stack);
  return Object.keys(resource).length > 0 ? { ...override, resource } : override;
}

/** Artefacts the override cannot silence and the harness's plan filter still judges. */
export const HARNESS_ARTEFACTS: readonly IdempotenceArtefact[] = IDEMPOTENCE_ARTEFACTS.filter((a) => 'harness' in a.silenced);
