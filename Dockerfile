# syntax=docker/dockerfile:1
#
# One image for both the API and the Temporal worker:
#   api:     default CMD  -> npx tsx server.ts
#   worker:  command      -> npx tsx worker.ts
#   migrate: command      -> npx tsx scripts/migrate.ts
#
# Debian (glibc) base on purpose: @temporalio/worker ships a prebuilt glibc
# native module (core-bridge), so Alpine/musl is not an option.
FROM node:20-bookworm-slim

# node:20 bundles npm 10. The project uses npm 11, which reads the
# package.json "allowScripts" field; pin the same major/minor as dev machines.
ARG NPM_VERSION=11.19.1
RUN npm install -g "npm@${NPM_VERSION}" && npm cache clean --force

ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first for layer caching. Full `npm ci` (not --omit=dev): the app
# runs TypeScript directly through tsx. Installed as root, so the runtime user
# cannot modify node_modules or the source.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci

COPY . .
# The operators' console (npm ci ran before its sources were copied, so its postinstall skipped it).
RUN npm run console:build

# .data/ is the only path the app may write to inside /app (e.g. local dev data).
RUN mkdir -p /app/.data && chown node:node /app/.data

USER node
EXPOSE 3000

# npx resolves the local node_modules/.bin/tsx (no download at runtime).
# Run with an init process (compose `init: true` / `docker run --init`) so
# SIGTERM is forwarded and zombies are reaped.
CMD ["npx", "tsx", "server.ts"]
