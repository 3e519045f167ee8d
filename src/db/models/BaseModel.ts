import { Model } from 'objection';

/**
 * Shared base for every model. Column names are camelCase in code and snake_case in SQL through
 * knexSnakeCaseMappers on the knex instance; constraints live in SQL (migrations), not here.
 */
export class BaseModel extends Model {}
