# The one Strata image: `strata broker` runs a broker, `strata operator` the operator.
#
#   docker build -t ghcr.io/strata/strata:0.1.0 .
#
# Two stages: the build stage compiles and bundles (dist/strata.mjs, hack/bundle.mjs) and keeps
# only the production dependencies; the runtime stage holds Node, those dependencies (the native
# compression and CRC addons are loaded from node_modules at run time) and the bundle.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Without scripts: the package's own `prepare` (npm run build) needs the sources, copied below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY hack/bundle.mjs hack/bundle.mjs
COPY bin bin
COPY broker broker
COPY operator operator
# `npm rebuild` runs the dependencies' install scripts skipped above (zstd-napi fetches or
# compiles its addon); then compile, bundle, and drop the dev dependencies.
RUN npm rebuild \
 && npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/strata
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/bin bin
RUN ln -s /opt/strata/bin/strata /usr/local/bin/strata \
 && mkdir -p /var/lib/strata /etc/strata \
 && chown 1000:1000 /var/lib/strata
# uid 1000 is operator/defaults.ts BROKER_UID (the node image's `node` user): the broker pods'
# fsGroup and the operator Deployment's runAsUser assume it.
USER 1000:1000
# The broker's Kafka listener and its HTTP endpoint (/metrics, /healthz, /readyz); the operator
# serves its own on 8080.
EXPOSE 9092 9644 8080
ENTRYPOINT ["strata"]
CMD ["broker", "--config", "/etc/strata/server.properties"]
