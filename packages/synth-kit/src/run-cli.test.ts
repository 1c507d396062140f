import { afterEach, describe, expect, it } from 'vitest';
import { configureSynthProcess, SYNTH_SOURCE_MAPS_ENV } from './run-cli';

describe('configureSynthProcess', () => {
  const before = process.sourceMapsEnabled;
  afterEach(() => process.setSourceMapsEnabled(before));

  it('turns source maps off for synth runs (cdktf maps every frame of every token trace otherwise)', () => {
    process.setSourceMapsEnabled(true);
    configureSynthProcess({});
    expect(process.sourceMapsEnabled).toBe(false);
  });

  it(`keeps them on when ${SYNTH_SOURCE_MAPS_ENV}=1 asks for TypeScript positions`, () => {
    process.setSourceMapsEnabled(false);
    configureSynthProcess({ [SYNTH_SOURCE_MAPS_ENV]: '1' });
    expect(process.sourceMapsEnabled).toBe(true);
  });
});
