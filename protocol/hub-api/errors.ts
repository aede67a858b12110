/**
 * How the hub refuses a call: a code the renderer chooses its Chinese message by, and the technical detail.
 */
import { z } from 'zod';
import { RefusalReason } from '../wire';

export const HubErrorCode = z.enum([
  'unknown-method',
  'invalid-params',
  'unauthorized',
  'not-found',
  'unavailable', // the capability exists in the contract but cannot serve right now (e.g. no backend link)
  'internal',
]);
export type HubErrorCode = z.infer<typeof HubErrorCode>;

export const HubErrorShape = z.object({
  code: HubErrorCode,
  /** Technical detail in English; the renderer shows a Chinese message chosen by code, with this one click away. */
  message: z.string().max(4000),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** A refused command's reason (key and parameters), shown in the window's language when its key is known. */
  reason: RefusalReason.optional(),
});
export type HubErrorShape = z.infer<typeof HubErrorShape>;

export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly issues: HubErrorShape['issues'];
  readonly reason: RefusalReason | undefined;
  constructor(code: HubErrorCode, message: string, issues?: HubErrorShape['issues'], reason?: RefusalReason) {
    super(message);
    this.name = 'HubError';
    this.code = code;
    this.issues = issues;
    this.reason = reason;
  }
  toShape(): HubErrorShape {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}), ...(this.reason ? { reason: this.reason } : {}) };
  }
  static from(shape: HubErrorShape): HubError {
    return new HubError(shape.code, shape.message, shape.issues, shape.reason);
  }
}
