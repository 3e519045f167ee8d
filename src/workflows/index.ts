/** Every workflow the worker registers. Imported only by the workflow bundler. */
export { cardWorkflow } from './card-workflow';
