import { PlatformConfigError } from '@platform/platform-config';

/**
 * Runs an app's main function: a bad cluster definition prints its problems (no stack
 * trace) and exits 1; any other failure prints the error and exits 1 too.
 */
export function runCli(name: string, main: () => Promise<void> | void): void {
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
