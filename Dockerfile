# syntax=docker/dockerfile:1
# weir's container image: the bundled proxy (dist/bin/weir.js, one esbuild bundle with every
# dependency inside but the etcd client) and the quickstart demo's apps (dist/examples/quickstart-app.js), on Node 22,
# running as the unprivileged `node` user (uid 1000). docs/deploy.md explains how it is used.
#
#   docker build -t weir:0.1.0 .
#   docker run --rm -v "$PWD/examples/quickstart:/etc/weir:ro" weir:0.1.0 check /etc/weir/weir.yaml

# --- build: install the pinned dependencies, compile, bundle -----------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts off: `prepare` would build before the sources are copied. The `node` devDependency's
# launcher is then not set up; remove it, so npm scripts run on this image's node.
RUN npm ci --ignore-scripts --no-audit --no-fund && rm -f node_modules/.bin/node
COPY tsconfig.base.json tsconfig.build.json ./
COPY src ./src
COPY examples/quickstart ./examples/quickstart
RUN npm run build \
  && npx esbuild examples/quickstart/app.ts --bundle --platform=node --format=esm --log-level=warning \
    --outfile=dist/examples/quickstart-app.js

# --- runtime: node and the two bundles, nothing else ---------------------------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# the one runtime dependency the bundle keeps external (etcd3: its gRPC protocol files are read from
# its package folder), installed from the lock file without dev or peer dependencies
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/bin/weir.js /app/dist/bin/weir.js
COPY --from=build /src/dist/examples/quickstart-app.js /app/dist/examples/quickstart-app.js
COPY examples/configs /app/examples/configs
USER node
# outgoing router, incoming router, admin
EXPOSE 4140 4141 9990
ENTRYPOINT ["node", "/app/dist/bin/weir.js"]
CMD ["proxy", "/etc/weir/config.yaml"]
