// Lint rules, including the architecture's import boundaries:
// - nothing under electron/hub, electron/host, electron/security, protocol/, backend/ imports 'electron'
//   (they must run in plain Node: the browser host, tests, CI);
// - protocol/ imports neither Node nor DOM APIs (every process and a backend in another language use it);
// - domain/ (the loop's rules, shared by backend and hub) imports protocol/ only;
// - the renderer never imports hub/host/backend code (it talks through the Hub API).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import globals from 'globals';
import { builtinModules } from 'node:module';

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
          patterns: [
            ...electronImport.patterns,
            { group: ['**/electron/**', '**/backend/**', '**/preload/**'], message: 'The renderer talks to the hub through the Hub API only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/hub/**', 'electron/host/**', 'electron/security/**', 'backend/**', 'common/**'],
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
          patterns: [...electronImport.patterns, { group: ['../*', '!../protocol'], message: 'domain/ imports protocol/ only.' }],
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
          patterns: [...electronImport.patterns, { group: ['../*'], message: 'protocol/ imports nobody in the project.' }],
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
