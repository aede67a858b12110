#!/usr/bin/env node
// `npm test`: type-check, lint, then every vitest project (unit, integration, e2e, electron) in one run.
// Ends with the totals over all suites as its last line: "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules/.bin', name);
const totals = { passed: 0, failed: 0, skipped: 0 };
const started = Date.now();

function step(title, command, args) {
  process.stdout.write(`\n━━ ${title} ━━\n`);
  const t0 = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  const ok = result.status === 0;
  process.stdout.write(`━━ ${title}: ${ok ? 'ok' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return ok;
}

// Type-check and lint count as one check each.
for (const [title, command, args] of [
  ['type-check (vue-tsc -b)', bin('vue-tsc'), ['-b']],
  ['lint (eslint)', bin('eslint'), ['--max-warnings', '0', '.']],
]) {
  if (step(title, command, args)) totals.passed++;
  else totals.failed++;
}

const report = join(root, 'test-results/vitest.json');
mkdirSync(join(root, 'test-results'), { recursive: true });
rmSync(report, { force: true });
const extra = process.argv.slice(2);
step('vitest: unit, integration, e2e, electron', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);

if (!existsSync(report)) {
  process.stdout.write('vitest wrote no report: counting the whole run as one failure\n');
  totals.failed++;
} else {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  totals.passed += json.numPassedTests;
  totals.failed += json.numFailedTests;
  totals.skipped += json.numPendingTests + json.numTodoTests;
  // A file that fails to load, or whose set-up hook fails (its tests then show as skipped), has no failed test to
  // count: count the file as a failure so it can never pass silently.
  const brokenFiles = json.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((t) => t.status === 'failed'));
  for (const f of brokenFiles) process.stdout.write(`test file failed to run: ${f.name}\n${f.message ?? ''}\n`);
  totals.failed += brokenFiles.length;
  const electronSkipped = json.testResults
    .filter((f) => f.name.includes('/tests/electron/'))
    .flatMap((f) => f.assertionResults)
    .filter((t) => t.status === 'skipped' || t.status === 'pending').length;
  if (electronSkipped > 0) {
    process.stdout.write(`\n!!! skipped: Electron binary not installed — ${electronSkipped} test(s) in tests/electron did not run (they run where npm install could fetch Electron)\n`);
  }
}

process.stdout.write(`\nall suites in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(totals.failed > 0 ? 1 : 0);
