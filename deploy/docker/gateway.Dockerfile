# The gateway image, used by docker-compose.yml and deploy/kubernetes.
# Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t userstore-gateway:0.1.0 .
# checkov:skip=CKV_DOCKER_2: the slim image has no HTTP client to probe with; Kubernetes probes /readyz and /healthz (deploy/kubernetes), and Keycloak copes with a gateway that is down (circuit breaker, failover)
FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY migrations ./migrations
RUN cargo build --release --locked

FROM debian:12.11-slim
RUN useradd --system --uid 10001 --no-create-home gateway
COPY --from=build /src/target/release/userstore-gateway /usr/local/bin/userstore-gateway
COPY deploy/docker/gateway.toml /etc/userstore-gateway/gateway.toml
# A numeric user, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
USER 10001
EXPOSE 8080
# For docker and compose: /healthz over plain HTTP on 8080, with bash's
# /dev/tcp (the image has no curl). With [server.tls] or another port, set
# your own check (or --no-healthcheck). Kubernetes ignores HEALTHCHECK and
# uses the probes in deploy/kubernetes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["userstore-gateway"]
CMD ["serve", "--config", "/etc/userstore-gateway/gateway.toml"]
