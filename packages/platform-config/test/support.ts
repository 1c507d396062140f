import { expect } from 'vitest';
import { AMI_LOCK, APP_CATALOG, loadPlatform, platformInput, PlatformConfigError, type PlatformInput } from '../src';

// Test inputs are deliberately wrong, so they are untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = any;

export type RawInput = { settings: Raw; clusters: Raw[]; amiLock: Raw; appCatalog: Raw };

/** The shipped platform, AMI lock and app catalog with one change; clusters index 0 staging, 1 production, 2 dr. */
export function withChange(change: (input: RawInput) => void): PlatformInput {
  const input = structuredClone({ ...platformInput, amiLock: AMI_LOCK, appCatalog: APP_CATALOG }) as unknown as RawInput;
  change(input);
  return input;
}

/** The lines of the PlatformConfigError `input` is rejected with (fails when it is accepted). */
export function problems(input: PlatformInput): string[] {
  try {
    loadPlatform(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformConfigError);
    return (error as Error).message.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, ''));
  }
  throw new Error('expected the definition to be rejected');
}
