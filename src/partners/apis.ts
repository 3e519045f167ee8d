import type Router from '@koa/router';
import type { ApiDeps, AppState } from '../api/context';
import { sandboxRouter } from './sandbox/router';

/**
 * The partners' own HTTP APIs served by this platform (the sandbox's, at `/sandbox/v1`, when it is
 * enabled): a partner simulated here is reached the way a real one is, over HTTP.
 */
export function partnerApiRouters(deps: ApiDeps): Router<AppState>[] {
  return deps.config.sandboxEnabled ? [sandboxRouter(deps)] : [];
}
