# fedistill: one image for the coordinator and the site node; the command picks the role
# (`coordinator start ...`, `node start ...`, `pki init ...`). Its contract with
# deploy/compose/ and deploy/kubernetes/: it runs as uid:gid 10001:10001, `fedistill` is on PATH
# and is the entrypoint (under tini, which forwards signals and reaps), /bin/sh exists, and
# /var/lib/fedistill/coordinator and /var/lib/fedistill/node belong to uid 10001. Nothing writes
# outside those folders and /tmp, so it runs with a read-only root filesystem.
#
# `npm run build` first: dist/ is copied, not compiled here. CI builds it with
# deploy/container/build.sh (daemonless, Debian's buildah), which makes both base images with
# debootstrap, since no image registry is reachable from this project's machines, and passes them
# as BASE_IMAGE and BUILD_IMAGE. Any Debian-like base with Node.js 20 at /usr/local/bin/node,
# useradd and setpriv works as BASE_IMAGE (tini is installed if it lacks it); BUILD_IMAGE adds npm,
# Node's headers (nodedir /usr/local), python3, make and g++. The defaults, Docker Hub's Node.js 20
# images on Debian 12, fit that description but are not tested here (no registry is reachable).
ARG BASE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG BUILD_IMAGE=docker.io/library/node:20-bookworm

# ---- production dependencies, native modules compiled against this image's Node and glibc
FROM ${BUILD_IMAGE} AS deps
WORKDIR /opt/fedistill
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no lifecycle script runs (the root's `prepare` needs the dev tools, and
# onnxruntime-node's only fetches the CUDA provider). better-sqlite3 is then compiled from source
# with npm's node-gyp (its install script would first try prebuilt binaries from GitHub).
# onnxruntime-node ships its CPU binaries; those of other platforms are dropped, and so are the
# compiler's leftovers. The SBOM is of this tree, without the development dependencies.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && cd node_modules/better-sqlite3 \
  && node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js" rebuild --release --nodedir=/usr/local \
  && cd /opt/fedistill \
  && rm -rf node_modules/better-sqlite3/build/Release/obj* node_modules/better-sqlite3/build/Release/.deps \
    node_modules/better-sqlite3/build/Release/test_extension.node node_modules/better-sqlite3/deps \
    node_modules/better-sqlite3/src \
  && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
  && find node_modules/onnxruntime-node/bin/napi-v6/linux -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} + \
  && node -e "require('better-sqlite3')(':memory:').close(); require('onnxruntime-node')" \
  && npm pkg delete devDependencies scripts \
  && npm sbom --sbom-format cyclonedx --sbom-type application --omit dev >sbom.cdx.json

# ---- the image
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=0.0.0-unknown
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://github.com/fedistill/fedistill
LABEL org.opencontainers.image.title="fedistill" \
  org.opencontainers.image.description="fedistill coordinator and site node (one image; the command picks the role)" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.created="${CREATED}" \
  org.opencontainers.image.source="${SOURCE}" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.base.name="${BASE_IMAGE}"

RUN command -v tini >/dev/null || { apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends tini && rm -rf /var/lib/apt/lists/*; } \
  && groupadd --system --gid 10001 fedistill \
  && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/fedistill --no-create-home \
    --shell /usr/sbin/nologin fedistill \
  && install -d -o 10001 -g 10001 -m 0750 /var/lib/fedistill /var/lib/fedistill/coordinator /var/lib/fedistill/node

WORKDIR /opt/fedistill
COPY --from=deps /opt/fedistill/node_modules ./node_modules
# CycloneDX 1.5 (npm sbom) of the npm packages above; `dpkg-query -W` lists the Debian ones.
COPY --from=deps /opt/fedistill/sbom.cdx.json ./sbom.cdx.json
COPY package.json package-lock.json ./
COPY bin ./bin
# dist/: apps, libs and the console's bundle (.dockerignore leaves out dist/bench and dist/test).
COPY dist ./dist
COPY data ./data
COPY examples ./examples
COPY deploy/container/healthcheck.js ./healthcheck.js
# A smoke test at build time: the CLI loads (with both native modules) as the runtime user.
RUN chmod -R a+rX,go-w /opt/fedistill \
  && ln -s /opt/fedistill/bin/fedistill.js /usr/local/bin/fedistill \
  && setpriv --reuid=10001 --regid=10001 --clear-groups fedistill --version

ENV NODE_ENV=production
USER 10001:10001
WORKDIR /var/lib/fedistill
# 7443: gRPC over TLS for the sites; 7080: the coordinator's admin API (loopback unless configured).
EXPOSE 7443 7080
HEALTHCHECK --interval=30s --timeout=6s --start-period=60s --retries=3 \
  CMD ["node", "/opt/fedistill/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "-s", "--", "fedistill"]
CMD ["--help"]
