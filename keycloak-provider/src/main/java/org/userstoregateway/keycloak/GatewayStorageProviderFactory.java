package org.userstoregateway.keycloak;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.storage.UserStorageProviderFactory;

/**
 * Registers the {@code userstore-gateway} user federation provider.
 *
 * <p>Declares the settings, validates them, and keeps one {@link GatewayClient}
 * (with its circuit breaker) per component and configuration, shared by all
 * sessions; {@link #create} only wires up a per-session provider. The factory
 * starts no threads of its own (the HTTP clients' threads are daemons), and
 * {@link #close} ends every client's waiting calls at once, so nothing here
 * holds up Keycloak's shutdown.
 */
public final class GatewayStorageProviderFactory implements UserStorageProviderFactory<GatewayStorageProvider> {

    public static final String PROVIDER_ID = "userstore-gateway";

    private static final Logger LOG = Logger.getLogger(GatewayStorageProviderFactory.class);

    /** How often the same missing role may be reported. */
    private static final Duration MISSING_ROLE_WARNING_INTERVAL = Duration.ofMinutes(10);

    private static final List<ProviderConfigProperty> CONFIG_PROPERTIES = ProviderConfigurationBuilder.create()
            .property()
            .name(GatewayConfig.GATEWAY_URL)
            .label("Gateway URL")
            .helpText("Base URL of the userstore-gateway service, for example http://userstore-gateway:8080."
                    + " The provider calls the /v1 API below it.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .required(true)
            .add()
            .property()
            .name(GatewayConfig.API_TOKEN)
            .label("API token")
            .helpText("Bearer token the gateway accepts (one of its auth.api_tokens).")
            .type(ProviderConfigProperty.PASSWORD)
            .secret(true)
            .required(true)
            .add()
            .property()
            .name(GatewayConfig.CONNECT_TIMEOUT_MS)
            .label("Connect timeout (ms)")
            .helpText("How long to wait for a connection to the gateway, in milliseconds.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_CONNECT_TIMEOUT_MS))
            .add()
            .property()
            .name(GatewayConfig.REQUEST_TIMEOUT_MS)
            .label("Request timeout (ms)")
            .helpText("How long to wait for the gateway's complete answer to one request, in milliseconds."
                    + " A lookup that times out counts as user not found, a password check as wrong password.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_REQUEST_TIMEOUT_MS))
            .add()
            .property()
            .name(GatewayConfig.BREAKER_FAILURE_THRESHOLD)
            .label("Failures before failing fast")
            .helpText("After this many failed calls in a row (no connection, timeout, HTTP 5xx, unreadable answer;"
                    + " not 'user not found') the provider stops asking the gateway and fails every call at once"
                    + " until the cool-down has passed. 1 or more.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_BREAKER_FAILURE_THRESHOLD))
            .add()
            .property()
            .name(GatewayConfig.BREAKER_COOLDOWN_MS)
            .label("Cool-down before retrying (ms)")
            .helpText("While failing fast, how long to wait before one probe call checks whether the gateway is"
                    + " back, in milliseconds. If the probe succeeds, calls go through again; if not, another"
                    + " cool-down starts.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_BREAKER_COOLDOWN_MS))
            .add()
            .property()
            .name(GatewayConfig.TRUSTED_CA_PEM)
            .label("Trusted CA certificates (PEM)")
            .helpText("For an https:// gateway URL: PEM text of the CA certificates the gateway's certificate must"
                    + " chain to. Empty: the JVM default trust store, which in Keycloak includes its"
                    + " truststore-paths. The host name in the gateway URL is always verified.")
            .type(ProviderConfigProperty.TEXT_TYPE)
            .add()
            .property()
            .name(GatewayConfig.CLIENT_CERTIFICATE_PEM)
            .label("Client certificate (PEM)")
            .helpText("For a gateway that requires client certificates (mutual TLS): PEM certificate chain to"
                    + " present, the client certificate first. Set together with the client key.")
            .type(ProviderConfigProperty.TEXT_TYPE)
            .add()
            .property()
            .name(GatewayConfig.CLIENT_KEY_PEM)
            .label("Client key (PEM)")
            .helpText("The private key of the client certificate: unencrypted PKCS#8 PEM"
                    + " (-----BEGIN PRIVATE KEY-----), RSA or EC. Set together with the client certificate.")
            .type(ProviderConfigProperty.TEXT_TYPE)
            .secret(true)
            .add()
            .build();

    private final Map<String, GatewayClient> clients = new ConcurrentHashMap<>();
    private final MissingRoleWarnings missingRoles = new MissingRoleWarnings(MISSING_ROLE_WARNING_INTERVAL);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Users from a SQL user database, read through the userstore-gateway HTTP service (read-only).";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG_PROPERTIES;
    }

    @Override
    public void validateConfiguration(KeycloakSession session, RealmModel realm, ComponentModel model)
            throws ComponentValidationException {
        // Reads the PEM settings too, so a broken certificate or key is refused when saved, not at first use.
        GatewayTls.sslContext(GatewayConfig.from(model));
    }

    @Override
    public GatewayStorageProvider create(KeycloakSession session, ComponentModel model) {
        return new GatewayStorageProvider(session, model, clientFor(model), missingRoles);
    }

    /** The shared client for this component, made anew when its configuration changed. */
    GatewayClient clientFor(ComponentModel model) {
        GatewayConfig config = GatewayConfig.from(model);
        return clients.compute(model.getId(), (id, current) -> {
            if (current != null && current.config().equals(config)) {
                return current;
            }
            LOG.debugf("userstore-gateway '%s': new HTTP client for %s", model.getName(), config);
            return new GatewayClient(config, "'" + model.getName() + "' (" + config.gatewayUrl() + ")");
        });
    }

    @Override
    public void onUpdate(KeycloakSession session, RealmModel realm, ComponentModel oldModel, ComponentModel newModel) {
        dropClient(oldModel.getId());
    }

    @Override
    public void preRemove(KeycloakSession session, RealmModel realm, ComponentModel model) {
        dropClient(model.getId());
    }

    /** Keycloak is stopping: every client ends its waiting calls at once and refuses new ones. */
    @Override
    public void close() {
        clients.values().forEach(GatewayClient::close);
        clients.clear();
    }

    /**
     * Forgets a component's client without closing it: sessions that started
     * before the change may still be using it, and their calls end within the
     * request timeout. Its threads are daemons that end once it is unreachable.
     */
    private void dropClient(String componentId) {
        if (componentId != null) {
            clients.remove(componentId);
        }
    }
}
