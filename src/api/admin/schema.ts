import { z } from 'zod';
import { CARD_STATUSES } from '../../domain/card-state';
import { CreateCardSchema } from '../cards/schema';
import {
  IsoDateTime,
  MinorUnits,
  PaginationSchema,
  PartialPolicySchema,
  Region,
  SpendingLimitsSchema,
} from '../schemas';

const Reason = z.string().trim().min(1, 'a reason is required').max(1000);
const Empty = z.strictObject({}).optional().default({});

const common = { reason: Reason, expiresAt: IsoDateTime.optional() };

export const CardActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('freeze'), params: Empty, ...common }),
  z.strictObject({ type: z.literal('unfreeze'), params: Empty, ...common }),
  z.strictObject({ type: z.literal('cancel'), params: Empty, ...common }),
  z.strictObject({
    type: z.literal('set_spending_limits'),
    params: z.strictObject({ spendingLimits: SpendingLimitsSchema }),
    ...common,
  }),
  z.strictObject({
    type: z.literal('allow_regions'),
    params: z.strictObject({ regions: z.array(Region).min(1).max(50) }),
    ...common,
  }),
  z.strictObject({
    type: z.literal('extend_expiry'),
    params: z.strictObject({ expiresAt: IsoDateTime }),
    ...common,
  }),
]);
export type CardActionBody = z.infer<typeof CardActionSchema>;

export const UserActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('lift_weekly_card_limit'), params: Empty, ...common }),
  z.strictObject({
    type: z.literal('set_weekly_spend_limit'),
    params: z.strictObject({ amount: MinorUnits }),
    ...common,
  }),
  z.strictObject({ type: z.literal('suspend'), params: Empty, ...common }),
  z.strictObject({ type: z.literal('reinstate'), params: Empty, ...common }),
]);
export type UserActionBody = z.infer<typeof UserActionSchema>;

export const DecisionSchema = z.strictObject({ note: z.string().trim().max(1000).optional() });

export const AdminIssueSchema = CreateCardSchema.extend({ reason: Reason });

export const PolicyPatchSchema = PartialPolicySchema.extend({
  reason: z.string().trim().min(1).max(1000).optional(),
}).strict();

export const AdminListCardsQuery = PaginationSchema.extend({
  userId: z.string().max(100).optional(),
  status: z.enum(CARD_STATUSES).optional(),
  region: Region.optional(),
});

export const ListActionsQuery = PaginationSchema.extend({
  status: z
    .enum(['pending_approval', 'approved', 'rejected', 'applied', 'failed', 'reverted', 'expired'])
    .optional(),
});
