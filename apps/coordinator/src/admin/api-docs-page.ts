/** The browsable page of the OpenAPI document: plain HTML rendered on the server, no scripts. */

type Json = Record<string, unknown>;

const escape = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const pre = (value: unknown): string => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

function renderOperation(path: string, method: string, op: Json): string {
  const roles = (op['x-fedistill-roles'] as string[]).join(', ') || 'anyone (no token)';
  const params = (op.parameters as Json[])
    .map((p) => `<li><code>${escape(String(p.name))}</code>: ${escape(String(p.description))}</li>`)
    .join('');
  const body = op.requestBody as Json | undefined;
  const responses = Object.entries(op.responses as Record<string, Json>)
    .map(([status, r]) => `<li><code>${status}</code> ${escape(String(r.description))}</li>`)
    .join('');
  const id = escape(String(op.operationId));
  return `<section id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h"><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p>${escape(String(op.summary))} <small>(operationId <code>${id}</code>; roles: ${escape(roles)})</small></p>
${params ? `<h4>Path parameters</h4><ul>${params}</ul>` : ''}
${body ? `<details><summary>Request body${body.required ? '' : ' (optional)'}</summary>${pre(body.content)}</details>` : ''}
<h4>Responses</h4><ul>${responses}</ul>
</section>`;
}

/** Renders `doc` (an OpenAPI 3.1 document from buildOpenApiDocument) as one HTML page. */
export function renderApiDocsPage(doc: Json): string {
  const info = doc.info as { title: string; version: string; description: string };
  const sections: string[] = [];
  const index: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>))
    for (const [method, op] of Object.entries(methods)) {
      sections.push(renderOperation(path, method, op));
      index.push(
        `<li><a href="#${escape(String(op.operationId))}">${method.toUpperCase()} ${escape(path)}</a></li>`,
      );
    }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(info.title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#111;background:#fff}
code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:.5rem;overflow:auto}
section{border-top:1px solid #bbb;padding:.5rem 0}.m{display:inline-block;min-width:4rem;font-weight:bold}
.get{color:#05529e}.post{color:#7a3d00}.put{color:#5b2b8a}a{color:#05529e}
</style></head><body><main>
<h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>
<p>${escape(info.description)} The machine-readable document is <a href="openapi.json">openapi.json</a>.</p>
<nav aria-label="Routes"><ul>${index.join('')}</ul></nav>
${sections.join('\n')}
</main></body></html>
`;
}
