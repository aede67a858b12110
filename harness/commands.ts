/** The refusal a domain command meets, for tests: its CommandError (code and Chinese message), or the test fails. */
import { CommandError } from '../domain';

export function refusalOf(act: () => unknown, what = 'the command'): CommandError {
  try {
    act();
  } catch (e) {
    if (e instanceof CommandError) return e;
    throw e;
  }
  throw new Error(`${what} was not refused`);
}
