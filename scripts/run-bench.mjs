#!/usr/bin/env node
// `npm run bench [-- name ...]`: runs the benchmarks under bench/ (all, or those named) one after another.
// Benchmarks print figures; they are not tests and assert nothing.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
const chosen = wanted.length ? wanted : all;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`no bench named ${name}; have: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n━━ bench: ${name} ━━`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', `${name}.ts`)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
