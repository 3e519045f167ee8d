import { z } from 'zod';
import { CARD_STATUSES } from '../../domain/card-state';
import { ControlsSchema, Currency, IsoDateTime, PaginationSchema } from '../schemas';

const MetadataValue = z.union([z.string().max(500), z.number(), z.boolean(), z.null()]);

export const CreateCardSchema = z.strictObject({
  userId: z.string().min(1).max(100),
  currency: Currency,
  controls: ControlsSchema.optional(),
  expiresAt: IsoDateTime.optional(),
  metadata: z
    .record(z.string().min(1).max(40), MetadataValue)
    .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata keys')
    .optional(),
});
export type CreateCardBody = z.infer<typeof CreateCardSchema>;

export const StatusChangeSchema = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

export const ListCardsQuery = PaginationSchema.extend({
  userId: z.string().max(100).optional(),
  status: z.enum(CARD_STATUSES).optional(),
});
