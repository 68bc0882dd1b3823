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
 * per component and configuration, shared by all sessions; {@link #create}
 * only wires up a per-session provider.
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
            .helpText("How long to wait for the gateway's answer to one request, in milliseconds."
                    + " A lookup that times out counts as user not found, a password check as wrong password.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_REQUEST_TIMEOUT_MS))
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
        GatewayConfig.from(model);
    }

    @Override
    public GatewayStorageProvider create(KeycloakSession session, ComponentModel model) {
        return new GatewayStorageProvider(session, model, clientFor(model), missingRoles);
    }

    /** The shared client for this component, made anew when its configuration changed. */
    GatewayClient clientFor(ComponentModel model) {
        GatewayConfig config = GatewayConfig.from(model);
        GatewayClient[] outdated = {null};
        GatewayClient client = clients.compute(model.getId(), (id, current) -> {
            if (current != null && current.config().equals(config)) {
                return current;
            }
            outdated[0] = current;
            LOG.debugf("userstore-gateway '%s': new HTTP client for %s", model.getName(), config);
            return new GatewayClient(config);
        });
        if (outdated[0] != null) {
            outdated[0].close();
        }
        return client;
    }

    @Override
    public void onUpdate(KeycloakSession session, RealmModel realm, ComponentModel oldModel, ComponentModel newModel) {
        dropClient(oldModel.getId());
    }

    @Override
    public void preRemove(KeycloakSession session, RealmModel realm, ComponentModel model) {
        dropClient(model.getId());
    }

    @Override
    public void close() {
        clients.values().forEach(GatewayClient::close);
        clients.clear();
    }

    private void dropClient(String componentId) {
        GatewayClient client = componentId == null ? null : clients.remove(componentId);
        if (client != null) {
            client.close();
        }
    }
}
