/**
 * The card workflow lives in ./card. This path stays only for the type imports of src/api and
 * src/services (outside this branch's files); point them at './card/card-workflow' and delete it.
 */
export { cardWorkflow, type CardWorkflowInput } from './card/card-workflow';
