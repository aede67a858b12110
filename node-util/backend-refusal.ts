/**
 * How the backend says it will not start, for whoever started it (the console's supervisor reads it, see
 * hub/embedded-backend.ts; a person reads it in a terminal): ONE line on stderr, `backend refused to start [CODE]: MESSAGE`, and exit code 3
 * when the data needs a person (retrying cannot help), 1 for anything else (`start-failed`: retrying may).
 * Any error carrying one of the codes below as its `code` is a refusal, whatever its class.
 */
export const REFUSAL_CODES = ['database-empty', 'database-not-ours', 'database-corrupt', 'database-newer', 'tokens-unreadable', 'port-in-use', 'broker-refused'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number] | 'start-failed';

/** Exit code of a refusal a person must resolve (the console then stops retrying). */
export const EXIT_NEEDS_PERSON = 3;

export const REFUSAL_LINE = /^backend refused to start \[([a-z-]+)\]: (.*)$/;

export class BackendRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackendRefusal';
  }
}

function isRefusalCode(code: unknown): code is (typeof REFUSAL_CODES)[number] {
  return typeof code === 'string' && (REFUSAL_CODES as readonly string[]).includes(code);
}

/** The line to print and the exit code for an error that stopped the start. */
export function describeRefusal(error: unknown): { code: RefusalCode; line: string; exitCode: number } {
  const e: Error & { code?: unknown } = error instanceof Error ? error : new Error(String(error));
  const code: RefusalCode = isRefusalCode(e.code) ? e.code : e.code === 'EADDRINUSE' ? 'port-in-use' : 'start-failed';
  // One line: a message with line breaks would break the contract's framing.
  const message = e.message.replace(/\s*\n\s*/g, ' ').slice(0, 1000);
  return { code, line: `backend refused to start [${code}]: ${message}`, exitCode: code === 'start-failed' ? 1 : EXIT_NEEDS_PERSON };
}

/** The refusal in one line of the backend's stderr, or null when the line is something else. */
export function parseRefusal(line: string): { code: string; message: string } | null {
  const match = REFUSAL_LINE.exec(line);
  return match ? { code: match[1]!, message: match[2]! } : null;
}
