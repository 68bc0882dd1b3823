package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.utils.PostMigrationEvent;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.storage.UserStorageProvider;
import org.keycloak.storage.UserStorageProviderFactory;

class GatewayStorageProviderFactoryTest {

    private static final ChangeFeedSubscriber.Timing TIMING = new ChangeFeedSubscriber.Timing(20,
            Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(30));

    private final GatewayStorageProviderFactory factory = new GatewayStorageProviderFactory();
    private final StubGateway gateway = new StubGateway();
    private final StubGateway.Feed feed = new StubGateway.Feed();
    private final RecordingEvictor evictor = new RecordingEvictor();

    @AfterEach
    void close() {
        factory.close();
        gateway.close();
    }

    /** A component of realm "test" configured for the stub gateway, whose feed is {@link #feed}. */
    private ComponentModel followed() {
        gateway.on("GET", "/v1/changes", feed);
        ComponentModel model = gateway.component();
        model.setParentId("realm-test");
        model.setProviderType(UserStorageProvider.class.getName());
        return model;
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
                        "breakerFailureThreshold", "breakerCooldownMs", "maxStalenessMs", "changeFeed",
                        "localPasswordsWithoutHash", "trustedCaPem", "clientCertificatePem", "clientKeyPem"),
                factory.getConfigProperties().stream().map(ProviderConfigProperty::getName).toList());
        assertTrue(byName.get("gatewayUrl").isRequired());
        assertTrue(byName.get("gatewayUrl").getHelpText().contains("separated by commas"),
                byName.get("gatewayUrl").getHelpText());
        assertEquals(ProviderConfigProperty.PASSWORD, byName.get("apiToken").getType());
        assertTrue(byName.get("apiToken").isSecret());
        assertEquals("2000", byName.get("connectTimeoutMs").getDefaultValue());
        assertEquals("2500", byName.get("requestTimeoutMs").getDefaultValue());
        assertEquals("5", byName.get("breakerFailureThreshold").getDefaultValue());
        assertEquals("10000", byName.get("breakerCooldownMs").getDefaultValue());
        assertEquals("60000", byName.get("maxStalenessMs").getDefaultValue());
        assertTrue(byName.get("maxStalenessMs").getHelpText().startsWith("No user from the database stays in"
                + " Keycloak's user cache longer than this"), byName.get("maxStalenessMs").getHelpText());
        assertEquals(ProviderConfigProperty.BOOLEAN_TYPE, byName.get("changeFeed").getType());
        assertEquals("true", byName.get("changeFeed").getDefaultValue());
        ProviderConfigProperty localPasswords = byName.get("localPasswordsWithoutHash");
        assertEquals(ProviderConfigProperty.BOOLEAN_TYPE, localPasswords.getType());
        assertEquals("false", localPasswords.getDefaultValue(), "off unless an admin turns it on");
        assertEquals("Keycloak passwords for users without a hash", localPasswords.getLabel());
        assertTrue(localPasswords.getHelpText().contains("never in the database"), localPasswords.getHelpText());
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
        assertEquals(CircuitBreaker.State.CLOSED, after.breakerState(URI.create("http://gw:8080")));
    }

    @Test
    void clientFor_severalUrls_givesEachGatewayItsOwnBreaker() {
        GatewayClient client = factory.clientFor(component("c1", "http://gw1:8080, http://gw2:8080", "tok"));

        assertEquals(List.of(URI.create("http://gw1:8080"), URI.create("http://gw2:8080")),
                client.config().gatewayUrls());
        assertEquals(CircuitBreaker.State.CLOSED, client.breakerState(URI.create("http://gw1:8080")));
        assertEquals(CircuitBreaker.State.CLOSED, client.breakerState(URI.create("http://gw2:8080")));
    }

    @Test
    void validateConfiguration_duplicateUrl_isRefused() {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> factory.validateConfiguration(null, null, component("c1", "http://gw1, http://gw1/", "tok")));

        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
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

    // Change-feed subscribers

    @Test
    void create_beforeKeycloakIsUp_followsNoFeed() {
        ComponentModel model = followed();

        factory.create(null, model);

        assertNull(factory.subscriber(model.getId()));
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void create_afterStart_followsTheFeedOncePerComponent() throws Exception {
        ComponentModel model = followed();
        feed.then(StubGateway.changes("5"));
        factory.start(evictor, TIMING);

        factory.create(null, model);
        ChangeFeedSubscriber subscriber = factory.subscriber(model.getId());
        factory.create(null, model);

        assertNull(feed.nextAfter());
        assertEquals("5", feed.nextAfter());
        assertSame(subscriber, factory.subscriber(model.getId()));
        assertTrue(subscriber.isRunning());
    }

    @ParameterizedTest
    @CsvSource({"changeFeed,false", "cachePolicy,NO_CACHE", "enabled,false"})
    void create_nothingToKeepFresh_followsNoFeed(String key, String value) {
        ComponentModel model = followed();
        model.getConfig().putSingle(key, value);
        factory.start(evictor, TIMING);

        factory.create(null, model);

        assertNull(factory.subscriber(model.getId()));
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void create_settingsChangedOnAnotherNode_restartsWithTheNewClient() throws Exception {
        ComponentModel model = followed();
        feed.then(StubGateway.changes("5"));
        factory.start(evictor, TIMING);
        factory.create(null, model);
        ChangeFeedSubscriber before = factory.subscriber(model.getId());
        ComponentModel changed = followed();
        changed.getConfig().putSingle(GatewayConfig.MAX_STALENESS_MS, "5000");

        factory.create(null, changed);
        ChangeFeedSubscriber after = factory.subscriber(model.getId());

        assertTrue(before.awaitTermination(Duration.ofSeconds(5)), "the old subscriber ended");
        assertNotSame(before, after);
        assertEquals(Duration.ofSeconds(5), after.client().config().maxStaleness());
    }

    @Test
    void onUpdate_restartsTheSubscriberAndPreRemoveStopsIt() throws Exception {
        ComponentModel model = followed();
        factory.start(evictor, TIMING);
        factory.onCreate(null, null, model);
        ChangeFeedSubscriber created = factory.subscriber(model.getId());

        factory.onUpdate(null, null, model, model);
        ChangeFeedSubscriber updated = factory.subscriber(model.getId());
        factory.preRemove(null, null, model);

        assertTrue(created.awaitTermination(Duration.ofSeconds(5)));
        assertNotSame(created, updated);
        assertTrue(updated.awaitTermination(Duration.ofSeconds(5)));
        assertNull(factory.subscriber(model.getId()));
    }

    @Test
    void close_endsAPendingLongPollPromptly() throws Exception {
        ComponentModel model = followed();
        feed.then(StubGateway.changes("5"));
        factory.start(evictor, TIMING);
        factory.create(null, model);
        ChangeFeedSubscriber subscriber = factory.subscriber(model.getId());
        feed.nextRequest();
        assertEquals("5", feed.nextAfter(), "the long-poll is pending");

        factory.close();

        assertTrue(subscriber.awaitTermination(Duration.ofSeconds(5)), "ended within the bound");
    }

    @Test
    void postMigration_componentsOfThisProvider_startTheirSubscribers() throws Exception {
        Fakes.Server server = new Fakes.Server();
        Fakes.Realm realm = server.addRealm("test");
        ComponentModel ours = followed();
        ComponentModel other = followed();
        other.setId("component-ldap");
        other.setProviderId("ldap");
        realm.components.put(ours.getId(), ours);
        realm.components.put(other.getId(), other);
        feed.then(StubGateway.changes("5"));
        factory.postInit(server.factory, server.jobs);

        server.listeners.forEach(listener -> listener.onEvent(new PostMigrationEvent(server.factory)));

        assertNull(feed.nextAfter());
        assertEquals("5", feed.nextAfter());
        assertTrue(factory.subscriber(ours.getId()).isRunning());
        assertNull(factory.subscriber(other.getId()));
        factory.close();
        assertTrue(server.listeners.isEmpty(), "the listener is gone after close");
    }
}
