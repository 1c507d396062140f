import { PlatformConfigError } from '@platform/platform-config';

/** Set to `1` to map synth stack traces back to TypeScript sources (slower). */
export const SYNTH_SOURCE_MAPS_ENV = 'SYNTH_SOURCE_MAPS';

/**
 * Process settings of a synth run. cdktf captures an unlimited stack trace for every token
 * it creates; with source maps on (tsx turns them on) Node maps every frame of each, which
 * costs the infra synth ≈ 0.3 s and 30 MiB for the shipped clusters (docs/benchmarks.md).
 * Definition errors name the field, not a source line, so maps stay off unless asked for.
 */
export function configureSynthProcess(env: NodeJS.ProcessEnv = process.env): void {
  process.setSourceMapsEnabled(env[SYNTH_SOURCE_MAPS_ENV] === '1');
}

/**
 * Runs an app's main function: a bad cluster definition prints its problems (no stack
 * trace) and exits 1; any other failure prints the error and exits 1 too.
 */
export function runCli(name: string, main: () => Promise<void> | void): void {
  configureSynthProcess();
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      if (error instanceof PlatformConfigError) {
        console.error(`${name}: ${error.message}\n${name}: nothing was written.`);
      } else {
        console.error(`${name}: failed; previous output left untouched.`);
        console.error(error);
      }
      process.exitCode = 1;
    });
}
