import type { PlatformInput } from '../platform';
import { dr } from './dr';
import { production } from './production';
import { settings } from './settings';
import { staging } from './staging';

/** The shipped platform: add a cluster by adding a file here and listing it below. */
export const platformInput: PlatformInput = { settings, clusters: [staging, production, dr] };
