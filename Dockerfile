# syntax=docker/dockerfile:1
# One image for the three parley services; the command picks one:
#   docker run parley gateway | room-worker | admin-api | xmppctl <args>
# Configuration through PARLEY_* environment variables (docs/configuration.md) or
# `--config /etc/parley/parley.json` with a mounted file. See deploy/compose/compose.yaml.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, TypeScript build, then only production dependencies ----------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN corepack enable && corepack prepare pnpm@9.15.9 --activate
# .dockerignore leaves out node_modules, dist and local data.
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm exec tsc -b services/gateway services/room-worker services/admin-api \
 && rm -rf node_modules */*/node_modules test/node_modules \
 && pnpm install --prod --frozen-lockfile --offline \
      --filter '@parley/gateway...' --filter '@parley/room-worker...' --filter '@parley/admin-api...' \
 && rm -rf test bench deploy/local scripts packages/testkit packages/loadgen \
 && chmod 0755 deploy/docker/parley

# --- runtime: no compiler, no dev dependencies, not root ---------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PARLEY_BIND_HOST=0.0.0.0 \
    PARLEY_ADMIN_BIND_HOST=0.0.0.0 \
    PARLEY_ROOM_WORKER_HEALTH_BIND_HOST=0.0.0.0 \
    PARLEY_GATEWAY_HEALTH_PORT=9090 \
    PARLEY_ROOM_WORKER_HEALTH_PORT=9090 \
    PARLEY_HEALTHCHECK_URL=http://127.0.0.1:9090/readyz
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# The image's `node` user (uid 1000); the application files stay owned by root, read-only to it.
USER node
# c2s, WebSocket, health (gateway / room worker), admin API. XEP-0368 direct TLS is off unless
# PARLEY_DIRECT_TLS_PORT is set (with a certificate: PARLEY_TLS_CERTIFICATES or PARLEY_TLS_CERT/KEY).
EXPOSE 5222 5280 9090 5380
# /readyz of the service's health listener; the admin API container sets
# PARLEY_HEALTHCHECK_URL=http://127.0.0.1:5380/readyz (no token needed there either).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
# SIGTERM (docker stop) stops the service cleanly: give it the time (docker stop -t 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/deploy/docker/parley"]
CMD ["gateway"]
