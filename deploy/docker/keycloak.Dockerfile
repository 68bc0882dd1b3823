# Keycloak with the userstore-gateway provider, used by docker-compose.yml and
# by the Keycloak resource in deploy/kubernetes. The provider jar is built here
# from keycloak-provider/, against the same Keycloak version as the image.
# Build from the repository root:
#   docker build -f deploy/docker/keycloak.Dockerfile -t userstore-gateway-keycloak:0.1.0 .
# KEYCLOAK_VERSION is the one in keycloak-provider/pom.xml (a test keeps them equal).
ARG KEYCLOAK_VERSION=26.7.5

FROM maven:3.9.11-eclipse-temurin-17 AS provider
ARG KEYCLOAK_VERSION
WORKDIR /src
COPY keycloak-provider/pom.xml ./pom.xml
COPY keycloak-provider/src ./src
# The unit tests run in CI (.ci/test); the image build only packages.
RUN mvn -B -ntp -DskipTests -Dkeycloak.version=${KEYCLOAK_VERSION} package \
    && cp target/userstore-gateway-keycloak-*.jar /src/userstore-gateway-keycloak.jar

FROM quay.io/keycloak/keycloak:${KEYCLOAK_VERSION} AS build
# Build-time options: fixed into the optimized server below.
ENV KC_DB=postgres \
    KC_HEALTH_ENABLED=true \
    KC_METRICS_ENABLED=true
COPY --from=provider /src/userstore-gateway-keycloak.jar /opt/keycloak/providers/userstore-gateway-keycloak.jar
RUN /opt/keycloak/bin/kc.sh build

FROM quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}
COPY --from=build /opt/keycloak/ /opt/keycloak/
USER 1000
# The image has no curl; bash's /dev/tcp asks the management port's readiness.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
    CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000 && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q UP <&3"]
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
CMD ["start", "--optimized"]
