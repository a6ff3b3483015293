#!/usr/bin/env node
'use strict';
// Checks an image's configuration against the contract of deploy/compose and deploy/kubernetes.
//
//   node deploy/container/inspect-image.js IMAGE.json VERSION
//
// IMAGE.json: `buildah inspect --type image IMAGE`, or `podman image inspect IMAGE` /
// `docker image inspect IMAGE` (an array of one). Prints one `ok` line per check and one `FAIL`
// line per problem, and exits 1 when one fails (2 on bad arguments).
const fs = require('node:fs');

const [file, version] = process.argv.slice(2);
if (!file || !version) {
  process.stderr.write('usage: inspect-image.js IMAGE.json VERSION\n');
  process.exit(2);
}
let doc;
try {
  doc = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (err) {
  process.stderr.write(`inspect-image.js: ${file} is not readable JSON: ${err.message}\n`);
  process.exit(2);
}
if (Array.isArray(doc)) doc = doc[0];
// buildah: Docker.config (docker format); podman and docker: Config (with Healthcheck).
const config = (doc && ((doc.Docker && doc.Docker.config) || doc.Config)) || undefined;
if (!config) {
  process.stderr.write(`inspect-image.js: ${file} holds no image configuration (Docker.config or Config)\n`);
  process.exit(2);
}

const problems = [];
const check = (ok, good, bad) => {
  if (ok) process.stdout.write(`ok   ${good}\n`);
  else problems.push(bad);
};
const labels = config.Labels || {};
const label = (k) => labels[`org.opencontainers.image.${k}`];

check(config.User === '10001:10001', `user ${config.User}`, `user is '${config.User}', not 10001:10001`);
const entrypoint = config.Entrypoint || [];
check(
  entrypoint[entrypoint.length - 1] === 'fedistill',
  `entrypoint ${JSON.stringify(entrypoint)}`,
  `entrypoint ${JSON.stringify(entrypoint)} does not end in 'fedistill'`,
);
// podman image inspect puts it beside Config.
const health = config.Healthcheck || doc.Healthcheck || {};
const test = health.Test || [];
check(
  test[0] === 'CMD' && test.some((t) => String(t).includes('healthcheck')),
  `healthcheck ${JSON.stringify(test)} every ${(health.Interval || 0) / 1e9} s`,
  `no HEALTHCHECK (got ${JSON.stringify(health)}): build with --format docker`,
);
check(
  label('version') === version,
  `label version ${label('version')}`,
  `label version is '${label('version')}', not ${version}`,
);
for (const k of ['source', 'revision', 'created', 'licenses', 'base.name'])
  check(Boolean(label(k)), `label ${k} ${label(k)}`, `label org.opencontainers.image.${k} is missing`);
const env = config.Env || [];
check(env.includes('NODE_ENV=production'), 'NODE_ENV=production', 'NODE_ENV is not production');
const ports = Object.keys(config.ExposedPorts || {}).sort();
check(
  ports.includes('7443/tcp'),
  `ports ${ports.join(' ')}`,
  `port 7443/tcp is not exposed (${ports.join(' ')})`,
);

for (const p of problems) process.stdout.write(`FAIL ${p}\n`);
process.exit(problems.length > 0 ? 1 : 0);
