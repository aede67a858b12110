/** Command-line parsing shared by the programs (browser host, backend): clear errors, usage, --help. */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O; args: string[] }>>['values'];

/**
 * Parses argv against `options`. --help prints the usage and exits 0; a bad flag prints the problem and the
 * usage and exits 2 (so does an argument that is not an option, unless `allowPositionals`). `fail` does the same
 * for problems found later (a bad value).
 */
export function parseCli<const O extends ParseArgsOptionsConfig>(
  options: O,
  usage: string,
  argv = process.argv.slice(2),
  allowPositionals = false,
): { values: Values<O>; positionals: string[]; fail: (message: string) => never } {
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n${usage}\n`);
    process.exit(2);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage + '\n');
    process.exit(0);
  }
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals });
    return { values: parsed.values, positionals: parsed.positionals, fail };
  } catch (e) {
    return fail((e as Error).message);
  }
}
