/**
 * Proves the architecture's import boundaries: the lint rules reject the forbidden imports (checked on
 * snippets placed at real paths), and the real sources contain none (checked by scanning them).
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ARROWS } from '../../scripts/lint/import-boundaries.js';

const root = join(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function ruleErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals' || m.ruleId === 'house/import-boundaries').map((m) => m.message);
}

describe('import boundaries (lint rules)', () => {
  it.each(['hub/x.ts', 'host/x.ts', 'protocol/x.ts', 'domain/x.ts', 'backend/x.ts', 'web-serving/x.ts', 'node-util/x.ts'])('%s may not import electron', async (path) => {
    expect(await ruleErrors("import { app } from 'electron';\nexport { app };\n", path)).toHaveLength(1);
    expect(await ruleErrors("import x from 'electron/main';\nexport { x };\n", path)).toHaveLength(1);
  });

  it('electron/main.ts may import electron', async () => {
    expect(await ruleErrors("import { app } from 'electron';\nexport { app };\n", 'electron/main.ts')).toHaveLength(0);
  });

  it('protocol/ may not use Node or DOM APIs, nor import project code', async () => {
    expect(await ruleErrors("import { readFileSync } from 'node:fs';\nexport { readFileSync };\n", 'protocol/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { join } from 'path';\nexport { join };\n", 'protocol/x.ts')).toHaveLength(1);
    expect(await ruleErrors('export const w = window.innerWidth;\n', 'protocol/x.ts')).toHaveLength(1);
    expect(await ruleErrors("export const s = new WebSocket('ws://x');\n", 'protocol/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { Hub } from '../hub';\nexport { Hub };\n", 'protocol/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { z } from 'zod';\nimport { Locale } from './vocabulary';\nexport { z, Locale };\n", 'protocol/x.ts')).toHaveLength(0);
  });

  it('domain/ is pure: no Node modules, and no project code but protocol/', async () => {
    expect(await ruleErrors("import fs from 'node:fs';\nexport { fs };\n", 'domain/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { Hub } from '../hub';\nexport { Hub };\n", 'domain/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { Locale } from '../protocol';\nexport { Locale };\n", 'domain/x.ts')).toHaveLength(0);
  });

  it('the renderer may not import hub code or Node modules', async () => {
    expect(await ruleErrors("import { Hub } from '../../hub';\nexport { Hub };\n", 'renderer/src/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import fs from 'node:fs';\nexport { fs };\n", 'renderer/src/x.ts')).toHaveLength(1);
  });
});

const FOLDERS = Object.keys(ARROWS);

describe('import boundaries (every arrow of the table)', () => {
  // Every pair of product folders: an import is refused unless the table allows it; the renderer is imported by
  // no one, the backend imports neither hub, host nor electron, hub and host never import electron.
  const pairs = FOLDERS.flatMap((from) => FOLDERS.filter((to) => to !== from).map((to) => [from, to] as const));
  it.each(pairs)('%s → %s follows the table', async (from, to) => {
    const filePath = from === 'renderer' ? 'renderer/src/x.ts' : `${from}/x.ts`;
    const spec = from === 'renderer' ? `../../${to}/x` : `../${to}/x`;
    const errors = await ruleErrors(`import { a } from '${spec}';\nexport { a };\n`, filePath);
    expect(errors.length).toBe(ARROWS[from]!.may.includes(to) ? 0 : 1);
  });

  it('names the forbidden arrows the architecture promises', () => {
    const may = (from: string, to: string) => ARROWS[from]!.may.includes(to);
    expect(FOLDERS.filter((f) => f !== 'renderer' && may(f, 'renderer'))).toEqual([]);
    expect(['hub', 'host', 'electron'].filter((t) => may('backend', t))).toEqual([]);
    expect(may('hub', 'electron') || may('host', 'electron') || may('electron', 'host')).toBe(false);
    expect(ARROWS.protocol!.may).toEqual([]);
  });
});

describe('import boundaries (the real sources)', () => {
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? files(full) : /\.(ts|vue)$/.test(name) ? [full] : [];
    });
  }
  it('no file under hub, host, web-serving, protocol, domain, backend or node-util imports electron', () => {
    const plainNode = ['hub', 'host', 'web-serving', 'protocol', 'domain', 'backend', 'node-util'].flatMap((d) => {
      try {
        return files(join(root, d));
      } catch {
        return [];
      }
    });
    expect(plainNode.length).toBeGreaterThan(10);
    const offenders = plainNode.filter((f) => /from\s+['"]electron(\/[^'"]*)?['"]|require\(\s*['"]electron['"]\s*\)/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it('every relative import between product folders follows the table', () => {
    const offenders = FOLDERS.flatMap((from) =>
      files(join(root, from)).flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].flatMap(([, spec]) => {
          const to = relative(root, resolve(dirname(file), spec!)).split(sep)[0]!;
          return to === from || !FOLDERS.includes(to) || ARROWS[from]!.may.includes(to) ? [] : [`${relative(root, file)} → ${spec}`];
        }),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
