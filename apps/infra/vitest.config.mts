import { defineConfig } from 'vitest/config';

// The offline terraform plan runs several stacks one after another: minutes, not seconds.
export default defineConfig({ test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 } });
