'use strict';
// The checks deploy/check-manifests.sh runs on the compose file and the kustomize overlays, after
// docker-compose and kustomize (where present) have parsed them. One line per failure, exit 1.
//
//   node deploy/check-manifests.js compose CONFIG.yml
//       CONFIG.yml: `docker-compose config` output (the file as Compose resolved it).
//   node deploy/check-manifests.js kubernetes OVERLAY_DIR [--rendered FILE]
//       Renders the overlay with this file's own kustomize subset; with --rendered (the output of
//       a real `kustomize build`), also requires both renderings to hold the same objects, then
//       checks FILE's objects. Every object is validated against the Kubernetes JSON schema
//       (kubernetes-models) and the pods against Pod Security "restricted" and this project's
//       rules (probes, resources, NetworkPolicy, no secret values, the image tag).
const fs = require('node:fs');
const path = require('node:path');
const { parseAllDocuments } = require('yaml');

const root = path.resolve(__dirname, '..');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const fedistillImage = `fedistill:${version}`;

/** The YAML documents of a file or string, as plain objects; a syntax error names the file. */
function readDocuments(text, file) {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS();
    })
    .filter((d) => d !== null && d !== undefined);
}

// ---------------------------------------------------------------- compose

/** A service's volume in the long syntax (docker-compose 1.x resolves to 'SOURCE:TARGET[:MODE]'). */
function longVolume(v) {
  if (typeof v !== 'string') return v;
  const [source, target] = v.split(':');
  return { type: /^[.~/]/.test(source) ? 'bind' : 'volume', source, target };
}

/** Rules for the resolved compose file; returns one message per broken rule. */
function checkCompose(config) {
  const problems = [];
  const fail = (msg) => problems.push(msg);
  const services = config.services ?? {};
  const isFedistill = (s) => typeof s.image === 'string' && s.image.split(':')[0] === 'fedistill';
  const fedistill = Object.entries(services).filter(([, s]) => isFedistill(s));
  const nodes = fedistill.filter(([, s]) => (s.command ?? []).join(' ').startsWith('node start'));
  if (!services.coordinator) fail('compose: no coordinator service');
  if (!services.postgres) fail('compose: no postgres service');
  if (nodes.length < 3) fail(`compose: ${nodes.length} node services run 'node start', expected 3`);

  for (const [name, s] of fedistill) {
    if (s.image !== fedistillImage) fail(`compose ${name}: image ${s.image}, expected ${fedistillImage}`);
    if (s.read_only !== true) fail(`compose ${name}: read_only must be true`);
    if (!(s.cap_drop ?? []).includes('ALL')) fail(`compose ${name}: cap_drop must include ALL`);
    if (s.cap_add) fail(`compose ${name}: cap_add must not be set`);
    if (!(s.security_opt ?? []).some((o) => /^no-new-privileges(:true)?$/.test(o)))
      fail(`compose ${name}: security_opt must include no-new-privileges:true`);
    const uid = String(s.user ?? '').split(':')[0];
    if (!/^[1-9]\d*$/.test(uid))
      fail(`compose ${name}: user must be a non-root numeric uid, not '${s.user}'`);
    if (s.privileged) fail(`compose ${name}: privileged must not be set`);
  }
  for (const [name, s] of Object.entries(services)) {
    const env = s.environment ?? {};
    for (const [key, value] of Object.entries(env)) {
      if (/PASSWORD|TOKEN|SECRET|_KEY$/.test(key) && !key.endsWith('_FILE') && value)
        fail(`compose ${name}: ${key} holds a secret in the environment; use a secret file (${key}_FILE)`);
    }
  }

  const coordinator = services.coordinator ?? {};
  if (!coordinator.healthcheck?.test) fail('compose coordinator: no healthcheck');
  else if (!coordinator.healthcheck.test.join(' ').includes('/healthz'))
    fail('compose coordinator: the healthcheck must ask /healthz');
  if (!services.postgres?.healthcheck?.test) fail('compose postgres: no healthcheck');
  if (coordinator.depends_on?.postgres?.condition !== 'service_healthy')
    fail('compose coordinator: must depend on postgres with condition service_healthy');
  const nodeVolumes = new Map();
  for (const [name, s] of nodes) {
    if (s.depends_on?.coordinator?.condition !== 'service_healthy')
      fail(`compose ${name}: must depend on coordinator with condition service_healthy`);
    const state = (s.volumes ?? []).map(longVolume).find((v) => v.target === '/var/lib/fedistill/node');
    if (!state || state.type !== 'volume')
      fail(`compose ${name}: no named volume at /var/lib/fedistill/node`);
    else if (nodeVolumes.has(state.source))
      fail(`compose ${name}: shares volume ${state.source} with ${nodeVolumes.get(state.source)}`);
    else nodeVolumes.set(state.source, name);
  }

  const declared = config.secrets ?? {};
  for (const [name, s] of Object.entries(declared))
    if (typeof s.file !== 'string') fail(`compose secret ${name}: must come from a file`);
  for (const [name, s] of Object.entries(services))
    for (const ref of s.secrets ?? []) {
      const secret = typeof ref === 'string' ? ref : ref.source;
      if (!declared[secret]) fail(`compose ${name}: uses undeclared secret ${secret}`);
    }
  for (const needed of ['coordinator.crt', 'coordinator.key', 'operator.token', 'postgres_password'])
    if (!(coordinator.secrets ?? []).some((r) => (typeof r === 'string' ? r : r.source) === needed))
      fail(`compose coordinator: secret ${needed} is not given to it`);
  return problems;
}

// ---------------------------------------------------------------- kustomize subset

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'patches', 'images']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
]);

/** RFC 6901 path segments. */
function pointer(p) {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new Error(`JSON patch path '${p}' must start with '/'`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 add, replace, remove and test, applied in place; an unreachable path is an error. */
function applyJsonPatch(doc, ops, where) {
  for (const op of ops) {
    const keys = pointer(op.path);
    const last = keys.pop();
    let parent = doc;
    for (const k of keys) {
      parent = Array.isArray(parent) ? parent[Number(k)] : parent?.[k];
      if (parent === undefined || parent === null || typeof parent !== 'object')
        throw new Error(`${where}: ${op.op} ${op.path}: no such path`);
    }
    const isArray = Array.isArray(parent);
    const index = isArray ? (last === '-' ? parent.length : Number(last)) : last;
    const exists = isArray ? index < parent.length : Object.hasOwn(parent, last);
    if (op.op === 'add') {
      if (isArray) parent.splice(index, 0, structuredClone(op.value));
      else parent[last] = structuredClone(op.value);
    } else if (op.op === 'replace' || op.op === 'remove') {
      if (!exists) throw new Error(`${where}: ${op.op} ${op.path}: no such path`);
      if (op.op === 'remove') isArray ? parent.splice(index, 1) : delete parent[last];
      else parent[index] = structuredClone(op.value);
    } else if (op.op === 'test') {
      if (JSON.stringify(parent[index]) !== JSON.stringify(op.value))
        throw new Error(`${where}: test ${op.path} failed`);
    } else throw new Error(`${where}: JSON patch op '${op.op}' is not supported here`);
  }
}

function podSpecs(obj) {
  const spec = obj.spec ?? {};
  if (obj.kind === 'Pod') return [spec];
  if (obj.kind === 'CronJob') return [spec.jobTemplate?.spec?.template?.spec].filter(Boolean);
  return [spec.template?.spec].filter(Boolean);
}

function setImage(image, rule) {
  const at = image.search(/[:@][^/]*$/);
  const name = at === -1 ? image : image.slice(0, at);
  if (name !== rule.name) return image;
  const tail = at === -1 ? '' : image.slice(at);
  return `${rule.newName ?? name}${rule.newTag !== undefined ? `:${rule.newTag}` : rule.digest ? `@${rule.digest}` : tail}`;
}

/**
 * Renders a kustomization with the part of kustomize this project uses: resources (files and
 * kustomization folders), namespace, images, and patches that are JSON patches with a kind/name
 * target. Any other field is refused, naming it, so the fallback never silently differs.
 */
function renderKustomization(dir) {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => path.join(dir, f))
    .find((f) => fs.existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const [k] = readDocuments(fs.readFileSync(file, 'utf8'), file);
  for (const key of Object.keys(k ?? {}))
    if (!SUPPORTED.has(key))
      throw new Error(
        `${file}: '${key}' is not supported by deploy/check-manifests.js; extend it or use a supported field`,
      );
  const objects = [];
  for (const entry of k.resources ?? []) {
    const full = path.resolve(dir, entry);
    if (!fs.existsSync(full)) throw new Error(`${file}: resource ${entry} does not exist`);
    if (fs.statSync(full).isDirectory()) objects.push(...renderKustomization(full));
    else objects.push(...readDocuments(fs.readFileSync(full, 'utf8'), full));
  }
  for (const patch of k.patches ?? []) {
    if (!patch.path || !patch.target?.kind || !patch.target?.name)
      throw new Error(`${file}: each patch needs a path and a target with kind and name here`);
    const where = path.resolve(dir, patch.path);
    if (!fs.existsSync(where)) throw new Error(`${file}: patch ${patch.path} does not exist`);
    const ops = readDocuments(fs.readFileSync(where, 'utf8'), where)[0];
    if (!Array.isArray(ops))
      throw new Error(`${where}: only JSON patches (a list of operations) are supported here`);
    const targets = objects.filter(
      (o) => o.kind === patch.target.kind && o.metadata?.name === patch.target.name,
    );
    if (targets.length === 0)
      throw new Error(`${file}: patch target ${patch.target.kind}/${patch.target.name} not found`);
    for (const t of targets) applyJsonPatch(t, ops, where);
  }
  for (const rule of k.images ?? [])
    for (const obj of objects)
      for (const spec of podSpecs(obj))
        for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
          c.image = setImage(c.image, rule);
  if (k.namespace)
    for (const obj of objects)
      if (!CLUSTER_SCOPED.has(obj.kind)) obj.metadata = { ...obj.metadata, namespace: k.namespace };
  return objects;
}

const idOf = (o) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/** Canonical JSON (sorted keys) for comparing two renderings. */
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  return value;
}

function compareRenderings(ours, theirs) {
  const problems = [];
  const a = new Map(ours.map((o) => [idOf(o), JSON.stringify(canonical(o))]));
  const b = new Map(theirs.map((o) => [idOf(o), JSON.stringify(canonical(o))]));
  for (const id of a.keys()) if (!b.has(id)) problems.push(`render: ${id} only in this script's rendering`);
  for (const id of b.keys()) if (!a.has(id)) problems.push(`render: ${id} only in kustomize's rendering`);
  for (const [id, json] of a)
    if (b.has(id) && b.get(id) !== json) problems.push(`render: ${id} differs from kustomize's`);
  return problems;
}

// ---------------------------------------------------------------- kubernetes checks

function modelFor(obj) {
  const [group, ver] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [undefined, obj.apiVersion];
  const modulePath = group
    ? `kubernetes-models/${group}/${ver}/${obj.kind}`
    : `kubernetes-models/${ver}/${obj.kind}`;
  try {
    return require(modulePath)[obj.kind];
  } catch {
    return undefined;
  }
}

function schemaProblems(obj) {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string')
    return [`${idOf(obj)}: apiVersion and kind are required`];
  const Model = modelFor(obj);
  if (!Model) return [`${idOf(obj)}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${idOf(obj)}: schema: ${err.message}`];
  }
}

const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** Pod Security "restricted" (with "baseline" under it) plus this project's own pod rules. */
function podProblems(obj, spec) {
  const problems = [];
  const fail = (msg) => problems.push(`${idOf(obj)}: ${msg}`);
  const pod = spec.securityContext ?? {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[f]) fail(`${f} must not be set`);
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((key) => key !== 'name');
    if (!RESTRICTED_VOLUMES.has(type)) fail(`volume ${v.name}: type ${type} is not allowed by "restricted"`);
  }
  if (pod.runAsUser === 0) fail('securityContext.runAsUser must not be 0');
  const safeSysctls =
    /^(kernel\.shm_rmid_forced|net\.ipv4\.ip_local_port_range|net\.ipv4\.ip_unprivileged_port_start|net\.ipv4\.tcp_syncookies|net\.ipv4\.ping_group_range)$/;
  for (const sysctl of pod.sysctls ?? [])
    if (!safeSysctls.test(sysctl.name)) fail(`sysctl ${sysctl.name} is not allowed by "baseline"`);
  const seLinuxTypes = new Set([undefined, '', 'container_t', 'container_init_t', 'container_kvm_t']);
  if (spec.automountServiceAccountToken !== false) fail('automountServiceAccountToken must be false');
  const containers = [
    ...(spec.initContainers ?? []).map((c) => ({ c, init: true })),
    ...(spec.containers ?? []).map((c) => ({ c, init: false })),
  ];
  for (const { c, init } of containers) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}:`;
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) fail(`${at} runAsNonRoot must be true`);
    if ((sc.runAsUser ?? pod.runAsUser) === 0) fail(`${at} runAsUser must not be 0`);
    const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      fail(`${at} seccompProfile.type must be RuntimeDefault (or Localhost)`);
    if (sc.allowPrivilegeEscalation !== false) fail(`${at} allowPrivilegeEscalation must be false`);
    if (sc.privileged) fail(`${at} privileged must not be set`);
    if (sc.procMount && sc.procMount !== 'Default') fail(`${at} procMount must be Default`);
    if ((sc.windowsOptions ?? pod.windowsOptions)?.hostProcess) fail(`${at} hostProcess must not be set`);
    for (const se of [sc.seLinuxOptions, pod.seLinuxOptions].filter(Boolean))
      if (se.user || se.role || !seLinuxTypes.has(se.type))
        fail(`${at} seLinuxOptions not allowed by "baseline"`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) fail(`${at} capabilities.drop must include ALL`);
    const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0)
      fail(`${at} capabilities.add may only hold NET_BIND_SERVICE, not ${added.join(', ')}`);
    if (sc.readOnlyRootFilesystem !== true) fail(`${at} readOnlyRootFilesystem must be true`);
    for (const port of c.ports ?? []) if (port.hostPort) fail(`${at} hostPort must not be set`);
    for (const res of ['cpu', 'memory'])
      if (!c.resources?.requests?.[res]) fail(`${at} resources.requests.${res} must be set`);
    if (!c.resources?.limits?.memory) fail(`${at} resources.limits.memory must be set`);
    if (!init && !c.readinessProbe) fail(`${at} readinessProbe must be set`);
    if (!init && !c.livenessProbe) fail(`${at} livenessProbe must be set`);
    if (!/:[^/]+$|@sha256:/.test(c.image ?? '') || /:latest$/.test(c.image))
      fail(`${at} image ${c.image} needs a fixed tag`);
    if ((c.image ?? '').split(':')[0].split('/').pop() === 'fedistill' && !c.image.endsWith(`:${version}`))
      fail(`${at} image ${c.image} must carry package.json's version ${version}`);
  }
  return problems;
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function checkKubernetes(objects) {
  const problems = [];
  const seen = new Set();
  for (const obj of objects) {
    const id = idOf(obj);
    if (seen.has(id)) problems.push(`${id}: defined twice`);
    seen.add(id);
    problems.push(...schemaProblems(obj));
    if (obj.kind === 'Secret' && (obj.data || obj.stringData))
      problems.push(
        `${id}: a Secret with values must not be committed; create it with kubectl (docs/deploy.md)`,
      );
    if (!CLUSTER_SCOPED.has(obj.kind) && !obj.metadata?.namespace) problems.push(`${id}: no namespace`);
  }
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  for (const ns of namespaces)
    if (ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted')
      problems.push(`${idOf(ns)}: label pod-security.kubernetes.io/enforce must be restricted`);
  const workloads = objects.filter((o) => podSpecs(o).length > 0 && o.kind !== 'Namespace');
  if (workloads.length === 0) problems.push('no workload found');
  for (const w of workloads) {
    for (const spec of podSpecs(w)) problems.push(...podProblems(w, spec));
    const labels = w.kind === 'Pod' ? w.metadata?.labels : w.spec?.template?.metadata?.labels;
    const own = policies.filter(
      (p) =>
        p.metadata?.namespace === w.metadata?.namespace &&
        Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length > 0 &&
        matches(p.spec.podSelector.matchLabels, labels),
    );
    if (own.length === 0) problems.push(`${idOf(w)}: no NetworkPolicy selects its pods`);
    if (w.spec?.selector?.matchLabels && !matches(w.spec.selector.matchLabels, labels))
      problems.push(`${idOf(w)}: spec.selector does not match the pod template's labels`);
  }
  const podLabels = workloads.map((w) => w.spec?.template?.metadata?.labels ?? w.metadata?.labels);
  for (const svc of objects.filter((o) => o.kind === 'Service'))
    if (svc.spec?.selector && !podLabels.some((l) => matches(svc.spec.selector, l)))
      problems.push(`${idOf(svc)}: its selector matches no pod`);
  const claims = new Set(
    objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name),
  );
  const configMaps = new Set(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
  for (const w of workloads)
    for (const spec of podSpecs(w))
      for (const v of spec.volumes ?? []) {
        if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName))
          problems.push(`${idOf(w)}: volume ${v.name} names a missing PersistentVolumeClaim`);
        if (v.configMap && !configMaps.has(v.configMap.name))
          problems.push(`${idOf(w)}: volume ${v.name} names a missing ConfigMap`);
      }
  return problems;
}

// ---------------------------------------------------------------- main

function main(argv) {
  const [what, target, ...rest] = argv;
  let problems;
  if (what === 'compose' && target) {
    const [config] = readDocuments(fs.readFileSync(target, 'utf8'), target);
    problems = checkCompose(config ?? {});
    if (problems.length === 0) console.log(`ok compose: ${Object.keys(config.services).length} services`);
  } else if (what === 'kubernetes' && target) {
    const ours = renderKustomization(path.resolve(target));
    let objects = ours;
    problems = [];
    if (rest[0] === '--rendered' && rest[1]) {
      objects = readDocuments(fs.readFileSync(rest[1], 'utf8'), rest[1]);
      problems.push(...compareRenderings(ours, objects));
    } else if (rest.length > 0) throw new Error(`unexpected arguments: ${rest.join(' ')}`);
    problems.push(...checkKubernetes(objects));
    if (problems.length === 0)
      console.log(
        `ok ${path.relative(process.cwd(), target) || target}: ${objects.length} objects (${objects.map((o) => o.kind).join(', ')})`,
      );
  } else {
    console.error('usage: check-manifests.js compose CONFIG.yml | kubernetes OVERLAY_DIR [--rendered FILE]');
    return 2;
  }
  for (const p of problems) console.error(`FAIL ${p}`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`FAIL ${err.message}`);
    process.exitCode = 1;
  }
}

module.exports = { checkCompose, checkKubernetes, renderKustomization, compareRenderings };
