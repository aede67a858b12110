// The architecture's arrows as one lint rule (docs/architecture.md draws them): a relative import from one
// top-level folder into another is allowed only when the table below says so. Node built-ins and 'electron'
// are restricted separately (no-restricted-imports in eslint.config.js). Tests, the harness, benchmarks and
// scripts may import anything: they drive the product from outside.
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * folder → the project folders it may import, and why the rest are forbidden.
 * @type {Record<string, { may: string[]; why: string }>}
 */
export const ARROWS = {
  protocol: { may: [], why: 'protocol/ is the contract every process (and a backend in another language) reads: it imports nobody in the project' },
  domain: { may: ['protocol'], why: 'domain/ holds the loop\'s pure rules, shared by backend, hub and renderer: it imports protocol/ only' },
  'node-util': { may: ['protocol'], why: 'node-util/ holds plain-Node utilities every process uses: it depends on no process' },
  'web-serving': { may: ['node-util', 'protocol'], why: 'web-serving/ is shared by both hosts and the backend: it depends on none of them' },
  backend: { may: ['domain', 'protocol', 'node-util', 'web-serving'], why: 'the backend is another program (another machine): it imports neither hub, host, electron nor renderer' },
  hub: { may: ['domain', 'protocol', 'node-util'], why: 'the hub is plain Node used by both hosts: it imports neither host, electron, backend nor renderer' },
  host: { may: ['hub', 'web-serving', 'domain', 'protocol', 'node-util'], why: 'the browser host runs without Electron and never imports the renderer or the backend' },
  electron: { may: ['hub', 'web-serving', 'domain', 'protocol', 'node-util'], why: 'the Electron glue uses the hub and the shared web-serving pieces, never the browser host, backend or renderer' },
  preload: { may: ['protocol'], why: 'the preload exposes the Hub API contract only' },
  renderer: { may: ['protocol', 'domain'], why: 'the renderer is a web page: it talks to the hub through the Hub API only' },
};

/** @type {import('eslint').Rule.RuleModule} */
export const importBoundaries = {
  meta: { type: 'problem', schema: [{ type: 'object', properties: { root: { type: 'string' } }, required: ['root'] }] },
  create(context) {
    const root = context.options[0].root;
    const folderOf = (path) => relative(root, path).split(sep)[0];
    const from = folderOf(context.filename);
    const rule = ARROWS[from];
    if (!rule) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = folderOf(resolve(dirname(context.filename), spec));
      if (to === from || to === '..' || rule.may.includes(to)) return;
      context.report({ node, message: `${from}/ may not import ${to}/: ${rule.why}.` });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
