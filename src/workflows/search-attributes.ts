import { defineSearchAttributeKey } from '@temporalio/common';

/** Custom search attributes every card workflow carries, so operators can filter in the Temporal UI. */
export const TenantIdSA = defineSearchAttributeKey('TenantId', 'KEYWORD');
export const UserIdSA = defineSearchAttributeKey('UserId', 'KEYWORD');
export const CardStatusSA = defineSearchAttributeKey('CardStatus', 'KEYWORD');
export const RegionSA = defineSearchAttributeKey('Region', 'KEYWORD');

/** For `temporal server start-dev --search-attribute` and `temporal operator search-attribute create`. */
export const SEARCH_ATTRIBUTE_DEFINITIONS = [
  { name: 'TenantId', type: 'Keyword' },
  { name: 'UserId', type: 'Keyword' },
  { name: 'CardStatus', type: 'Keyword' },
  { name: 'Region', type: 'Keyword' },
] as const;
