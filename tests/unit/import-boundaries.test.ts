/**
 * Proves the architecture's import boundaries: the lint rules reject the forbidden imports (checked on
 * snippets placed at real paths), and the real sources contain none (checked by scanning them).
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function ruleErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals').map((m) => m.message);
}

describe('import boundaries (lint rules)', () => {
  it.each(['electron/hub/x.ts', 'electron/host/x.ts', 'protocol/x.ts', 'domain/x.ts', 'backend/x.ts', 'electron/security/x.ts', 'common/x.ts'])('%s may not import electron', async (path) => {
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
    expect(await ruleErrors("import { Hub } from '../electron/hub';\nexport { Hub };\n", 'protocol/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { z } from 'zod';\nimport { Locale } from './domain';\nexport { z, Locale };\n", 'protocol/x.ts')).toHaveLength(0);
  });

  it('domain/ is pure: no Node modules, and no project code but protocol/', async () => {
    expect(await ruleErrors("import fs from 'node:fs';\nexport { fs };\n", 'domain/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { Hub } from '../electron/hub';\nexport { Hub };\n", 'domain/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import { Locale } from '../protocol';\nexport { Locale };\n", 'domain/x.ts')).toHaveLength(0);
  });

  it('the renderer may not import hub code or Node modules', async () => {
    expect(await ruleErrors("import { Hub } from '../../electron/hub';\nexport { Hub };\n", 'renderer/src/x.ts')).toHaveLength(1);
    expect(await ruleErrors("import fs from 'node:fs';\nexport { fs };\n", 'renderer/src/x.ts')).toHaveLength(1);
  });
});

describe('import boundaries (the real sources)', () => {
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? files(full) : /\.(ts|vue)$/.test(name) ? [full] : [];
    });
  }
  it('no file under electron/hub, electron/host, electron/security, protocol, domain, backend or common imports electron', () => {
    const plainNode = ['electron/hub', 'electron/host', 'electron/security', 'protocol', 'domain', 'backend', 'common'].flatMap((d) => {
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
});
