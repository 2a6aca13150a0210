// /docs: the API reference, rendered by the vendored Swagger UI from this
// server's own /openapi.yaml. Kept in a file (not inline) so the page's CSP
// needs no 'unsafe-inline' script.

/* global SwaggerUIBundle */

SwaggerUIBundle({
  url: '/openapi.yaml',
  dom_id: '#api-docs',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  // The default sends the spec to an online validator: nothing leaves this origin.
  validatorUrl: null,
  // "Try it out" calls this server; only same-origin URLs are allowed anyway (CSP connect-src).
  tryItOutEnabled: false,
});
