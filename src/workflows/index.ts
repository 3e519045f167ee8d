/** Every workflow the worker registers. Imported only by the workflow bundler. */
export { cardWorkflow } from './card/card-workflow';
export { userOverrideExpiryWorkflow } from './user-override-workflow';
export { reconciliationWorkflow } from './reconciliation-workflow';
