/** Work execution on site: attachments/photos, work logs and labour, fault codes + knowledge base, customer signature. */
import type { ApiApp, ApiDeps } from '../server.ts';
import { attachmentRoutes } from './attachments.ts';
import { knowledgeRoutes } from './knowledge-base.ts';
import { signatureRoutes } from './signatures.ts';
import { workLogRoutes } from './work-logs.ts';

export function workExecutionRoutes(app: ApiApp, deps: ApiDeps): void {
  attachmentRoutes(app, deps);
  workLogRoutes(app, deps);
  knowledgeRoutes(app, deps);
  signatureRoutes(app, deps);
}
