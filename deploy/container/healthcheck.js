#!/usr/bin/env node
'use strict';
// The image's HEALTHCHECK (Dockerfile). One image serves both roles, so it looks for the running
// role's own state, in the folders the image's contract names (deploy/compose/docker-compose.yml):
//
// - coordinator: DATA_DIR/coordinator.runtime.json, written once the admin API and the gRPC server
//   listen and removed on a clean stop, names the admin URL; GET /healthz there must answer 2xx.
//   HTTPS is not verified: the probe sends no credential and reads only the status code, and the
//   certificate names the sites' host name, not the loopback address (Kubernetes' httpGet probes
//   do the same).
// - node: NODE_DIR/node.lock names the process that holds the node directory (`node start` takes
//   it and keeps it until it stops); that process must be alive in this container, with the start
//   time the lock recorded (so a reused pid does not pass).
//
// FEDISTILL_HEALTH_COORDINATOR_DIR and FEDISTILL_HEALTH_NODE_DIR move those folders. Exit 0 when
// healthy, 1 otherwise, with one line saying why (`docker inspect` and `podman healthcheck run`
// show it).
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');

const coordinatorDir = process.env.FEDISTILL_HEALTH_COORDINATOR_DIR || '/var/lib/fedistill/coordinator';
const nodeDir = process.env.FEDISTILL_HEALTH_NODE_DIR || '/var/lib/fedistill/node';
const TIMEOUT_MS = 4000;

function done(ok, line) {
  process.stdout.write(`${ok ? 'healthy' : 'unhealthy'}: ${line}\n`);
  process.exit(ok ? 0 : 1);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err && err.code === 'ENOENT') return undefined;
    done(
      false,
      `${file} cannot be read: ${String(err && err.message ? err.message : err).replace(/\s+/g, ' ')}`,
    );
  }
}

function checkCoordinator(runtimeFile, runtime) {
  let url;
  try {
    url = new URL('/healthz', runtime.adminUrl);
  } catch {
    done(false, `${runtimeFile} has no valid adminUrl`);
  }
  // A wildcard listen address is reached on the loopback.
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  const client = url.protocol === 'https:' ? https : http;
  const req = client.get(url, { timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
    res.resume();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    done(ok, `coordinator ${url.href} answered ${res.statusCode}`);
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
  req.on('error', (err) => done(false, `coordinator ${url.href}: ${err.message}`));
}

function procStart(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (start time); the command name (field 2) is parenthesised and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function checkNode(lockFile, holder) {
  if (!holder || typeof holder.pid !== 'number') done(false, `${lockFile} names no process`);
  const start = procStart(holder.pid);
  if (start === undefined) done(false, `the node process ${holder.pid} named by ${lockFile} is not running`);
  if (holder.procStart !== undefined && holder.procStart !== start)
    done(false, `pid ${holder.pid} is another process than the node that took ${lockFile}`);
  done(true, `node process ${holder.pid} holds ${nodeDir} (since ${holder.startedAt})`);
}

const runtimeFile = path.join(coordinatorDir, 'coordinator.runtime.json');
const runtime = readJson(runtimeFile);
if (runtime !== undefined) {
  checkCoordinator(runtimeFile, runtime);
} else {
  const lockFile = path.join(nodeDir, 'node.lock');
  const holder = readJson(lockFile);
  if (holder !== undefined) checkNode(lockFile, holder);
  else done(false, `no running coordinator (${runtimeFile}) or node (${lockFile}) here`);
}
