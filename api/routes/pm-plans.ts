import type { ApiApp, ApiDeps } from '../server.ts';

/** SKELETON: to be implemented. */
export function pmRoutes(app: ApiApp, deps: ApiDeps): void {
  void app;
  void deps;
}
