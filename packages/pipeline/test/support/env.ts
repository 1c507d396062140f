/** Sets process.env variables for a test suite and puts the previous values back afterwards. */
export function envOverride(): { set(env: Record<string, string>): void; restore(): void } {
  const saved: Record<string, string | undefined> = {};
  return {
    set(env) {
      for (const [k, v] of Object.entries(env)) {
        if (!(k in saved)) saved[k] = process.env[k];
        process.env[k] = v;
      }
    },
    restore() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}
