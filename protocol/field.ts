/**
 * The field client's (外勤端) API at the backend: GET /field/api/me with `Authorization: Field <id>:<passcode>`.
 * Validated on the page: the response crosses the network.
 */
import { z } from 'zod';
import { SipAccount } from './wire-messages';

export const FieldMe = z.object({
  staff: z.object({ id: z.string(), name: z.string(), gridId: z.string(), districtId: z.string(), sipUser: z.string(), simulated: z.boolean() }),
  sip: SipAccount,
  /** Signed-in console users the staff member can call (指挥中心), dispatchers first. */
  center: z.array(z.object({ user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), name: z.string() })),
  /** Open events assigned to this staff member, newest first. */
  tasks: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      address: z.string(),
      status: z.string(),
      severity: z.number(),
      stepDeadline: z.string().nullable(),
      location: z.tuple([z.number(), z.number()]),
    }),
  ),
});
export type FieldMe = z.infer<typeof FieldMe>;
