# syntax=docker/dockerfile:1
#
# One image for both the API and the Temporal worker, from compiled JavaScript:
#   api:     default CMD  -> node dist/server.js
#   worker:  command      -> node dist/worker.js
#   migrate: command      -> node dist/scripts/migrate.js
#   bootstrap (once):     -> node dist/scripts/bootstrap.js --slug <s> --out <f>
#
# Two stages: `build` installs every dependency, compiles dist/ (`npm run build`:
# tsconfig.build.json, then the workflow bundle dist/workflow-bundle.js, which
# the worker loads instead of bundling its workflows at every start); `runtime`
# installs the production dependencies only and copies dist/ in.
#
# Debian (glibc) base on purpose: @temporalio/worker ships a prebuilt glibc
# native module (core-bridge), so Alpine/musl is not an option. Node 24 LTS
# (its bundled npm 11 reads package.json's "allowScripts").
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
# The operators' console too (npm ci ran before its sources were copied, so its postinstall skipped it).
RUN npm run console:build && npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app
# Installed as root, so the runtime user cannot modify node_modules or the code.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist

# .data/ is the only path the app may write to inside /app (e.g. local dev data).
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3000

# Run with an init process (compose `init: true` / `docker run --init`) so
# SIGTERM reaches node directly and zombies are reaped.
CMD ["node", "dist/server.js"]
