package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.storage.UserStorageProviderFactory;

class GatewayStorageProviderFactoryTest {

    private final GatewayStorageProviderFactory factory = new GatewayStorageProviderFactory();

    @AfterEach
    void close() {
        factory.close();
    }

    private static ComponentModel component(String id, String url, String token) {
        ComponentModel model = new ComponentModel();
        model.setId(id);
        model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, url);
        model.getConfig().putSingle(GatewayConfig.API_TOKEN, token);
        return model;
    }

    @Test
    @SuppressWarnings("rawtypes") // the factory interface is generic; ServiceLoader only knows the raw type
    void serviceFile_onTheClassPath_registersTheFactory() {
        List<String> ids = ServiceLoader.load(UserStorageProviderFactory.class).stream()
                .map(provider -> provider.get().getId())
                .toList();

        assertTrue(ids.contains("userstore-gateway"), ids.toString());
    }

    @Test
    void getConfigProperties_declaresEverySetting() {
        Map<String, ProviderConfigProperty> byName = factory.getConfigProperties().stream()
                .collect(Collectors.toMap(ProviderConfigProperty::getName, Function.identity()));

        assertEquals(List.of("gatewayUrl", "apiToken", "connectTimeoutMs", "requestTimeoutMs",
                        "breakerFailureThreshold", "breakerCooldownMs", "trustedCaPem", "clientCertificatePem",
                        "clientKeyPem"),
                factory.getConfigProperties().stream().map(ProviderConfigProperty::getName).toList());
        assertTrue(byName.get("gatewayUrl").isRequired());
        assertEquals(ProviderConfigProperty.PASSWORD, byName.get("apiToken").getType());
        assertTrue(byName.get("apiToken").isSecret());
        assertEquals("2000", byName.get("connectTimeoutMs").getDefaultValue());
        assertEquals("5000", byName.get("requestTimeoutMs").getDefaultValue());
        assertEquals("5", byName.get("breakerFailureThreshold").getDefaultValue());
        assertEquals("10000", byName.get("breakerCooldownMs").getDefaultValue());
        for (String pem : List.of("trustedCaPem", "clientCertificatePem", "clientKeyPem")) {
            assertEquals(ProviderConfigProperty.TEXT_TYPE, byName.get(pem).getType(), pem);
            assertFalse(byName.get(pem).isRequired(), pem);
        }
        assertTrue(byName.get("clientKeyPem").isSecret());
        assertFalse(byName.get("clientCertificatePem").isSecret());
    }

    @Test
    void validateConfiguration_invalidSettings_throwComponentValidationException() {
        ComponentModel model = component("c1", "ftp://gw", "tok");

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> factory.validateConfiguration(null, null, model));

        assertTrue(e.getMessage().startsWith("The gateway URL (gatewayUrl) must be"), e.getMessage());
    }

    @Test
    void clientFor_sameComponentAndSettings_sharesOneClient() {
        GatewayClient first = factory.clientFor(component("c1", "http://gw:8080", "tok"));
        GatewayClient second = factory.clientFor(component("c1", "http://gw:8080/", "tok"));

        assertSame(first, second);
    }

    @Test
    void clientFor_changedSettingsOrOtherComponent_getsItsOwnClient() {
        GatewayClient first = factory.clientFor(component("c1", "http://gw:8080", "tok"));
        GatewayClient rotated = factory.clientFor(component("c1", "http://gw:8080", "new-token"));
        GatewayClient other = factory.clientFor(component("c2", "http://gw:8080", "new-token"));

        assertNotSame(first, rotated);
        assertNotSame(rotated, other);
        assertSame(rotated, factory.clientFor(component("c1", "http://gw:8080", "new-token")));
    }

    @Test
    void onUpdateAndPreRemove_dropTheComponentsClient() {
        ComponentModel model = component("c1", "http://gw:8080", "tok");
        GatewayClient first = factory.clientFor(model);

        factory.onUpdate(null, null, model, model);
        GatewayClient afterUpdate = factory.clientFor(model);
        factory.preRemove(null, null, model);

        assertNotSame(first, afterUpdate);
        assertNotSame(afterUpdate, factory.clientFor(model));
    }

    @Test
    void close_releasesEveryClient() {
        ComponentModel model = component("c1", "http://gw:8080", "tok");
        GatewayClient before = factory.clientFor(model);

        factory.close();

        assertNotSame(before, factory.clientFor(model));
    }

    @Test
    void clientFor_changedBreakerSettings_getsANewClientWithAFreshBreaker() {
        ComponentModel model = component("c1", "http://gw:8080", "tok");
        GatewayClient before = factory.clientFor(model);
        model.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, "2");

        GatewayClient after = factory.clientFor(model);

        assertNotSame(before, after);
        assertEquals(2, after.config().breakerFailureThreshold());
        assertEquals(CircuitBreaker.State.CLOSED, after.breakerState());
    }

    @Test
    void validateConfiguration_plainHttpWithoutTls_isAccepted() {
        factory.validateConfiguration(null, null, component("c1", "http://gw:8080", "tok"));
    }

    @Test
    void create_validComponent_returnsAProviderWithoutCallingTheGateway() {
        ComponentModel model = component("c1", "http://127.0.0.1:9", "tok");

        assertTrue(factory.create(null, model) instanceof GatewayStorageProvider);
        assertEquals("userstore-gateway", factory.getId());
    }
}
