import type { ApiApp, ApiDeps } from '../server.ts';

/** SKELETON: to be implemented. */
export function workExecutionRoutes(app: ApiApp, deps: ApiDeps): void {
  void app;
  void deps;
}
