import { platformInput } from './clusters';
import { loadPlatform, type Platform } from './platform';

let cached: Platform | undefined;

/** The shipped platform, validated once per process (throws PlatformConfigError when wrong). */
export function defaultPlatform(): Platform {
  cached ??= loadPlatform(platformInput);
  return cached;
}
