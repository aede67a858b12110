// Lint rules, including the architecture's import boundaries (docs/architecture.md):
// - house/import-boundaries: which top-level folder may import which (the table in scripts/lint/import-boundaries.js);
// - only electron/ and preload/ import 'electron' (everything else must run in plain Node: the browser host, tests, CI);
// - protocol/ imports neither Node nor DOM APIs (every process and a backend in another language use it);
// - domain/ and the renderer use no Node modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import globals from 'globals';
import { builtinModules } from 'node:module';
import { importBoundaries } from './scripts/lint/import-boundaries.js';

const electronImport = {
  paths: [{ name: 'electron', message: 'This code must run without Electron (browser host, tests): keep electron imports in electron/main.ts, electron/windows.ts or preload/.' }],
  patterns: [{ group: ['electron/*'], message: 'No Electron imports here.' }],
};

// Exact names (not gitignore patterns): a pattern "domain" would also match the project's own ./domain.
const nodeModulePaths = (message) => [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].map((name) => ({ name, message }));

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'release/**', 'node_modules/**', '.tools/**', 'coverage/**', 'protocol/schema/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.ts', '**/*.vue', '**/*.js', '**/*.mjs'],
    plugins: { house: { rules: { 'import-boundaries': importBoundaries } } },
    rules: { 'house/import-boundaries': ['error', { root: import.meta.dirname }] },
  },
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] }, globals: { ...globals.browser } },
    rules: { 'vue/max-attributes-per-line': 'off', 'vue/singleline-html-element-content-newline': 'off', 'vue/html-self-closing': 'off' },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...electronImport.paths, ...nodeModulePaths('The renderer is a browser page: no Node modules.')],
          patterns: electronImport.patterns,
        },
      ],
    },
  },
  {
    files: ['hub/**', 'host/**', 'web-serving/**', 'backend/**', 'node-util/**'],
    rules: { 'no-restricted-imports': ['error', electronImport] },
  },
  {
    // The loop's rules run in the backend, the hub and (for enabling actions) the renderer: pure code only.
    files: ['domain/**'],
    languageOptions: { globals: { ...globals.es2021 } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...electronImport.paths, ...nodeModulePaths('domain/ is pure: no Node APIs.')],
          patterns: electronImport.patterns,
        },
      ],
    },
  },
  {
    files: ['protocol/**'],
    languageOptions: { globals: { ...globals.es2021 } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...electronImport.paths, ...nodeModulePaths('protocol/ must not use Node APIs.')],
          patterns: electronImport.patterns,
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'WebSocket', 'fetch', 'process', 'Buffer', 'require', '__dirname'].map((name) => ({
          name,
          message: 'protocol/ must not use Node or DOM APIs.',
        })),
      ],
    },
  },
);
