import { Controller, Header } from '@nestjs/common';
import { renderApiDocsPage } from './api-docs-page';
import { buildOpenApiDocument } from './openapi';
import { AdminRoute } from './route-spec';
import { ADMIN_ROUTES } from './routes';

/** Built once: the registry does not change while the process runs. */
const DOCUMENT = buildOpenApiDocument(ADMIN_ROUTES);
const PAGE = renderApiDocsPage(DOCUMENT);

/** The API's own contract: public, since it holds no data, and a browser page cannot send a token. */
@Controller()
export class ApiDocsController {
  @AdminRoute(ADMIN_ROUTES.openApiDocument)
  document(): Record<string, unknown> {
    return DOCUMENT;
  }

  @AdminRoute(ADMIN_ROUTES.apiDocs)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
  page(): string {
    return PAGE;
  }
}
