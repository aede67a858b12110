import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as { version: string };
const define = { __APP_VERSION__: JSON.stringify(version) };

export default defineConfig({
  test: {
    projects: [
      {
        define,
        plugins: [vue()],
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        define,
        test: { name: 'integration', include: ['tests/integration/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        define,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Chromium instances are heavy on a 2-core machine: one e2e file at a time.
          fileParallelism: false,
        },
      },
      {
        define,
        test: { name: 'electron', include: ['tests/electron/**/*.test.ts'], testTimeout: 60_000, fileParallelism: false },
      },
    ],
  },
});
