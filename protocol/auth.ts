/**
 * The backend's sign-in routes (docs/protocol.md 登录): POST /auth/login and POST /auth/logout. The session token
 * the login answers is used like a static token: in the wire hello and as the HTTP routes' bearer.
 */
import { z } from 'zod';
import { IsoTime } from './model';
import { UserRole } from './wire-messages';
import { RefusalReason } from './wire';

export const AUTH_LOGIN_PATH = '/auth/login';
export const AUTH_LOGOUT_PATH = '/auth/logout';
export const AUTH_PASSWORD_MAX_LENGTH = 256;

/** The apps accounts sign in to: the console, the field app (网格员), the department page (部门联络员). */
export const SignInAppName = z.enum(['console', 'field', 'department']);
export type SignInAppName = z.infer<typeof SignInAppName>;

export const LoginRequest = z
  .object({
    user: z.string().trim().min(1).max(64),
    password: z.string().min(1).max(AUTH_PASSWORD_MAX_LENGTH),
    client: z.object({ id: z.string().min(1).max(128), name: z.string().max(100).optional() }).strict(),
    /** The app signing in (default the console): an account of another app is refused (403 wrong-app). */
    app: SignInAppName.optional(),
  })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequest>;

export const LoginAnswer = z.object({
  sessionToken: z.string().min(32).max(512),
  expiresAt: IsoTime,
  user: z.object({ id: z.string().max(64), name: z.string().max(100), role: UserRole }),
});
export type LoginAnswer = z.infer<typeof LoginAnswer>;

/**
 * A refused sign-in: wrong-password (401, never saying whether the user exists), locked (423), disabled (403),
 * wrong-app (403: the account is for another app, said only after the password matched).
 */
export const LoginRefusal = z.object({
  code: z.string().max(64),
  message: z.string().max(2000),
  lockedUntil: IsoTime.optional(),
  /** A refused command's reason by key (domain/refusals.ts): the page shows it in its language. One that does not fit is dropped. */
  reason: RefusalReason.optional().catch(undefined),
});
export type LoginRefusal = z.infer<typeof LoginRefusal>;
