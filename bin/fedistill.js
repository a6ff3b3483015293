#!/usr/bin/env node
'use strict';
// The `fedistill` command: one binary for the coordinator, the node, the auditor and the tools.
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('fedistill is not built yet: run `npm run build` (npm ci does it for you).\n');
  process.exit(1);
}
require(entry).main();
