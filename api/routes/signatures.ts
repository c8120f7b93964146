/** Customer e-signature of a work order: capture, and read back with whether it still matches the work. */
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams } from '../schemas.ts';
import { SignatureBody, SignatureSchema } from '../work-execution-schemas.ts';

const tags = ['work execution'];

export function signatureRoutes(app: ApiApp, { signatures }: ApiDeps): void {
  app.post(
    '/work-orders/:id/signature',
    {
      schema: {
        tags,
        summary: 'Capture the customer\'s signature (in_progress or completed; 409 when already signed and nothing changed)',
        description: 'Signs a canonical summary of the order (close-out, checklist, labour/travel totals, parts); the image is kept as a signature attachment.',
        params: IdParams,
        body: SignatureBody,
        response: { 201: SignatureSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await signatures.sign(req.params.id, req.body)),
  );

  app.get(
    '/work-orders/:id/signature',
    { schema: { tags, summary: 'The signature, with valid = the order still matches what was signed', params: IdParams, response: { 200: SignatureSchema, ...errorResponses } } },
    async (req) => signatures.get(req.params.id),
  );
}
