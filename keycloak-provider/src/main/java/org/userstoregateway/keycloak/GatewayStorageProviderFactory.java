package org.userstoregateway.keycloak;

import java.text.MessageFormat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.PostMigrationEvent;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.provider.ProviderEventListener;
import org.keycloak.storage.CacheableStorageProviderModel;
import org.keycloak.storage.UserStorageProvider;
import org.keycloak.storage.UserStorageProviderFactory;

/**
 * Registers the {@code userstore-gateway} user federation provider.
 *
 * <p>Declares the settings, validates them, and keeps one {@link GatewayClient}
 * (with a circuit breaker per gateway URL) per component and configuration,
 * shared by all sessions; {@link #create} only wires up a per-session provider.
 *
 * <p>It also keeps Keycloak's user cache honest. It owns the list of users this
 * node has cached ({@link CachedUsers}), a sweeper that evicts those cached
 * longer than {@code maxStalenessMs} ({@link StaleUserSweeper}), and one
 * {@link ChangeFeedSubscriber} per component on this node. Subscribers start
 * for every component once Keycloak has migrated its database, for a new or
 * changed component in {@code onCreate}/{@code onUpdate}, and in {@link #create}
 * for any this node missed (a look-up in a map); they stop on
 * {@code onUpdate}/{@code preRemove}, by themselves when another node removed
 * their component, and in {@link #close}. All threads are daemons and
 * {@link #close} ends every waiting call at once, so nothing here holds up
 * Keycloak's shutdown.
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
                    + " The provider calls the /v1 API below it. Several gateways in front of the same database"
                    + " may be given, separated by commas (http://gw1:8080, http://gw2:8080): calls are spread over"
                    + " them, a gateway that keeps failing is left out until it answers again (each has its own"
                    + " circuit breaker), and a call that could not reach one gateway is retried once on another.")
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
                    + " A lookup that times out counts as user not found, a password check as wrong password."
                    + " Keep it below Keycloak's user storage timeout (3000 ms by default), which interrupts"
                    + " lookups by username and email; the default is "
                    + GatewayConfig.DEFAULT_REQUEST_TIMEOUT_MS + ".")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_REQUEST_TIMEOUT_MS))
            .add()
            .property()
            .name(GatewayConfig.BREAKER_FAILURE_THRESHOLD)
            .label("Failures before failing fast")
            .helpText("After this many failed calls in a row to a gateway (no connection, timeout, HTTP 5xx,"
                    + " unreadable answer; not 'user not found') the provider stops asking it until the cool-down"
                    + " has passed: calls go to the other gateways, or fail at once if there is none. 1 or more.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_BREAKER_FAILURE_THRESHOLD))
            .add()
            .property()
            .name(GatewayConfig.BREAKER_COOLDOWN_MS)
            .label("Cool-down before retrying (ms)")
            .helpText("While a gateway is left out, how long to wait before one probe call checks whether it is"
                    + " back, in milliseconds. If the probe succeeds, calls go to it again; if not, another"
                    + " cool-down starts.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_BREAKER_COOLDOWN_MS))
            .add()
            .property()
            .name(GatewayConfig.MAX_STALENESS_MS)
            .label("Maximum staleness (ms)")
            .helpText("No user from the database stays in Keycloak's user cache longer than this: a change in the"
                    + " database reaches logins and token refreshes within this time even when the change feed is"
                    + " off or unreachable (with the feed it is usually under a second). "
                    + GatewayConfig.MIN_MAX_STALENESS_MS + " or more.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_MAX_STALENESS_MS))
            .add()
            .property()
            .name(GatewayConfig.CHANGE_FEED)
            .label("Follow the change feed")
            .helpText("Follow the gateway's change feed (/v1/changes) and evict changed users at once.")
            .type(ProviderConfigProperty.BOOLEAN_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_CHANGE_FEED))
            .add()
            .property()
            .name(GatewayConfig.LOCAL_PASSWORDS_WITHOUT_HASH)
            .label("Keycloak passwords for users without a hash")
            .helpText("For users whose database row has no usable password hash (NULL, for example users who"
                    + " only ever signed in through a social login, or a hasher the gateway cannot check):"
                    + " let Keycloak set a password for them (admin reset, the Update Password action, a reset"
                    + " e-mail) and keep it in Keycloak's own credential storage, never in the database. Users"
                    + " whose row has a hash keep the database's password, read-only. As soon as the row gets a"
                    + " hash, or this is switched off, the password kept in Keycloak stops working and is"
                    + " removed.")
            .type(ProviderConfigProperty.BOOLEAN_TYPE)
            .defaultValue(String.valueOf(GatewayConfig.DEFAULT_LOCAL_PASSWORDS_WITHOUT_HASH))
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
    private final CachedUsers cachedUsers = new CachedUsers();
    private final Map<String, ChangeFeedSubscriber> subscribers = new ConcurrentHashMap<>();

    /** Null until {@link #postInit} (or a test's {@link #start}): until then nothing follows a feed. */
    private volatile ChangeFeedSubscriber.Shared feeds;
    private volatile ScheduledExecutorService sweeper;
    private volatile KeycloakSessionFactory sessionFactory;
    private volatile ProviderEventListener migrationListener;

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
    public void postInit(KeycloakSessionFactory factory) {
        postInit(factory, SessionJobs.of(factory));
    }

    void postInit(KeycloakSessionFactory factory, SessionJobs jobs) {
        sessionFactory = factory;
        start(new KeycloakUserCacheEvictor(jobs), ChangeFeedSubscriber.Timing.DEFAULT);
        // Components live in the database, which is ready to read once Keycloak has migrated it.
        migrationListener = event -> {
            if (event instanceof PostMigrationEvent) {
                followAll(jobs);
            }
        };
        factory.register(migrationListener);
    }

    /** Starts the sweeper and lets components follow their change feeds, evicting through {@code evictor}. */
    void start(UserCacheEvictor evictor, ChangeFeedSubscriber.Timing timing) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "userstore-gateway-cache-sweeper");
            thread.setDaemon(true);
            return thread;
        });
        long period = StaleUserSweeper.PERIOD.toMillis();
        scheduler.scheduleWithFixedDelay(new StaleUserSweeper(cachedUsers, evictor), period, period,
                TimeUnit.MILLISECONDS);
        sweeper = scheduler;
        feeds = new ChangeFeedSubscriber.Shared(cachedUsers, evictor, missingRoles, timing,
                duration -> Thread.sleep(duration.toMillis()),
                gone -> subscribers.values().remove(gone));
    }

    private void followAll(SessionJobs jobs) {
        try {
            jobs.run(session -> session.realms()
                    .getRealmsWithProviderTypeStream(UserStorageProvider.class)
                    .flatMap(realm -> realm.getComponentsStream(realm.getId(), UserStorageProvider.class.getName()))
                    .filter(component -> PROVIDER_ID.equals(component.getProviderId()))
                    .forEach(this::follow));
        } catch (RuntimeException e) {
            // Keycloak's start must not fail for this; create() starts the subscribers on first use instead.
            LOG.warnf(e, "userstore-gateway: could not list the components to follow their change feeds; each"
                    + " starts when the component is first used");
        }
    }

    @Override
    public GatewayStorageProvider create(KeycloakSession session, ComponentModel model) {
        GatewayClient client = clientFor(model);
        follow(model, client);
        return new GatewayStorageProvider(session, model, client, missingRoles, cachedUsers);
    }

    /** The shared client for this component, made anew when its configuration changed. */
    GatewayClient clientFor(ComponentModel model) {
        GatewayConfig config = GatewayConfig.from(model);
        return clients.compute(model.getId(), (id, current) -> {
            if (current != null && current.config().equals(config)) {
                return current;
            }
            LOG.debugf("userstore-gateway '%s': new HTTP client for %s", model.getName(), config);
            return new GatewayClient(config, model.getName());
        });
    }

    @Override
    public void onCreate(KeycloakSession session, RealmModel realm, ComponentModel model) {
        follow(model);
    }

    @Override
    public void onUpdate(KeycloakSession session, RealmModel realm, ComponentModel oldModel, ComponentModel newModel) {
        dropClient(oldModel.getId());
        unfollow(oldModel.getId());
        follow(newModel);
    }

    @Override
    public void preRemove(KeycloakSession session, RealmModel realm, ComponentModel model) {
        dropClient(model.getId());
        unfollow(model.getId());
        if (model.getId() != null) {
            // Keycloak drops a removed component's users from its cache itself.
            cachedUsers.takeAll(model.getId());
        }
    }

    /**
     * Keycloak is stopping: subscribers and the sweeper end, and every client ends
     * its waiting calls (a pending long-poll too) at once and refuses new ones.
     */
    @Override
    public void close() {
        KeycloakSessionFactory factory = sessionFactory;
        ProviderEventListener listener = migrationListener;
        if (factory != null && listener != null) {
            factory.unregister(listener);
        }
        feeds = null;
        subscribers.values().forEach(ChangeFeedSubscriber::stop);
        subscribers.clear();
        ScheduledExecutorService scheduler = sweeper;
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        clients.values().forEach(GatewayClient::close);
        clients.clear();
    }

    /** The running subscriber of a component, for tests. */
    ChangeFeedSubscriber subscriber(String componentId) {
        return subscribers.get(componentId);
    }

    /** Follows the component's feed if it should, from wherever Keycloak tells us of a component. */
    private void follow(ComponentModel model) {
        if (feeds == null) {
            return;
        }
        try {
            follow(model, clientFor(model));
        } catch (ComponentValidationException e) {
            LOG.warnf("userstore-gateway '%s': the settings are invalid, so its change feed is not followed: %s",
                    model.getName(), MessageFormat.format(e.getMessage(), e.getParameters()));
        }
    }

    /**
     * Makes sure a subscriber with this client runs if the component wants one and
     * none runs if not. Called for every session, so the usual case is two map
     * reads; a changed configuration comes with a new client and restarts it.
     */
    private void follow(ComponentModel model, GatewayClient client) {
        ChangeFeedSubscriber.Shared shared = feeds;
        String componentId = model.getId();
        if (shared == null || componentId == null) {
            return;
        }
        boolean wanted = wantsFeed(model, client.config());
        ChangeFeedSubscriber current = subscribers.get(componentId);
        if (wanted ? isFollowing(current, client) : current == null) {
            return;
        }
        subscribers.compute(componentId, (id, existing) -> {
            if (wanted && isFollowing(existing, client)) {
                return existing;
            }
            if (existing != null) {
                existing.stop();
            }
            return wanted ? ChangeFeedSubscriber.start(shared, model.getName(), model.getParentId(), id, client)
                    : null;
        });
    }

    private static boolean isFollowing(ChangeFeedSubscriber subscriber, GatewayClient client) {
        return subscriber != null && subscriber.client() == client && subscriber.isRunning();
    }

    /**
     * Disabled components and cache policy NO_CACHE put no user into the cache,
     * so there is nothing to evict. The parent of a user storage component is
     * its realm.
     */
    private static boolean wantsFeed(ComponentModel model, GatewayConfig config) {
        return config.changeFeed()
                && model.getParentId() != null
                && !"false".equalsIgnoreCase(model.get(CacheableStorageProviderModel.ENABLED))
                && !CacheableStorageProviderModel.CachePolicy.NO_CACHE.name()
                        .equals(model.get(CacheableStorageProviderModel.CACHE_POLICY));
    }

    private void unfollow(String componentId) {
        if (componentId != null) {
            ChangeFeedSubscriber subscriber = subscribers.remove(componentId);
            if (subscriber != null) {
                subscriber.stop();
            }
        }
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
