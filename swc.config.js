'use strict';
// One SWC configuration for the build (scripts/build.js) and for Jest (@swc/jest):
// CommonJS, ES2022, legacy decorators with emitted metadata so NestJS DI works.
const path = require('node:path');

/** @param {{ paths?: boolean }} [opts] */
function swcOptions(opts = {}) {
  return {
    sourceMaps: true,
    module: { type: 'commonjs' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      ...(opts.paths
        ? {
            baseUrl: path.resolve(__dirname),
            paths: { '@fedistill/*': ['libs/*/src/index.ts'] },
          }
        : {}),
    },
  };
}

module.exports = { swcOptions };
