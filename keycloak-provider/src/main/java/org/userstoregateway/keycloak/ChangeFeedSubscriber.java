package org.userstoregateway.keycloak;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

/**
 * Follows one component's change feed ({@code GET /v1/changes}) on this
 * Keycloak node and evicts the users it names from Keycloak's user cache, so
 * a change in the database reaches logins and token refreshes within about a
 * second instead of whenever Keycloak would evict the user.
 *
 * <p>On its own daemon thread, never a request thread. It starts at the
 * gateway's current position and evicts every user of the component this node
 * has cached, as those were cached before the position was known; it does the
 * same after a {@code resync} answer and when the role catalogue changed. The
 * position lives in memory only: after a failure the same position is asked
 * again and the gateway replays what happened since, so nothing is lost or
 * applied twice. Failures back off exponentially; a gateway without a feed is
 * asked again rarely. Either way {@code maxStalenessMs} still bounds how long a
 * user stays cached (see {@link StaleUserSweeper}).
 *
 * <p>Logs one WARN when the feed goes down and one INFO when it is back, not a
 * line per retry. {@link #stop} ends it at once, even during a long-poll.
 */
final class ChangeFeedSubscriber {

    private static final Logger LOG = Logger.getLogger(ChangeFeedSubscriber.class);

    /** How long the subscriber waits for what; tests use short ones. */
    record Timing(int waitSeconds, Duration firstBackoff, Duration maxBackoff, Duration noFeedRetry,
                  Duration existenceCheck) {

        static final Timing DEFAULT = new Timing(20, Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofSeconds(30));
    }

    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    /**
     * What all subscribers of a factory share. {@code onComponentGone} lets the
     * factory forget a subscriber that stopped because its component was removed.
     */
    record Shared(CachedUsers cachedUsers, UserCacheEvictor evictor, MissingRoleWarnings missingRoles,
                  Timing timing, Sleeper sleeper, Consumer<ChangeFeedSubscriber> onComponentGone) {
    }

    private enum Health {
        STARTING, UP, DOWN, NO_FEED
    }

    private final Shared shared;
    private final String name;
    private final String realmId;
    private final String componentId;
    private final GatewayClient client;
    private final Thread thread;
    private volatile boolean stopped;

    // Touched by the subscriber's own thread only.
    /** The last position the gateway gave us; null until the first answer, or after it refused one. */
    private String cursor;
    private Health health = Health.STARTING;
    private long downSinceNanos;
    private Duration backoff;
    private long nextExistenceCheckNanos;

    private ChangeFeedSubscriber(Shared shared, String name, String realmId, String componentId,
                                 GatewayClient client) {
        this.shared = shared;
        this.name = name;
        this.realmId = realmId;
        this.componentId = componentId;
        this.client = client;
        this.backoff = shared.timing().firstBackoff();
        // Not at once: onCreate starts a subscriber before the admin's transaction has committed the component.
        this.nextExistenceCheckNanos = System.nanoTime() + shared.timing().existenceCheck().toNanos();
        this.thread = new Thread(this::run, "userstore-gateway-changes-" + name);
        // Keycloak's shutdown must never wait for a long-poll.
        this.thread.setDaemon(true);
    }

    /** Starts following the feed of the component {@code componentId} of realm {@code realmId}. */
    static ChangeFeedSubscriber start(Shared shared, String name, String realmId, String componentId,
                                      GatewayClient client) {
        ChangeFeedSubscriber subscriber = new ChangeFeedSubscriber(shared, name, realmId, componentId, client);
        subscriber.thread.start();
        return subscriber;
    }

    /** Ends the subscriber without waiting for it; a pending long-poll is abandoned at once. */
    void stop() {
        stopped = true;
        thread.interrupt();
    }

    boolean isRunning() {
        return !stopped && thread.isAlive();
    }

    /** For tests: waits at most {@code timeout} for the thread to end. */
    boolean awaitTermination(Duration timeout) throws InterruptedException {
        thread.join(Math.max(1, timeout.toMillis()));
        return !thread.isAlive();
    }

    GatewayClient client() {
        return client;
    }

    private void run() {
        try {
            while (!stopped) {
                if (!componentStillExists()) {
                    LOG.infof("userstore-gateway '%s': the component no longer exists; its change-feed subscriber"
                            + " on this node stops", name);
                    stopped = true;
                    shared.cachedUsers().takeAll(componentId);
                    shared.onComponentGone().accept(this);
                    return;
                }
                try {
                    followOnce();
                } catch (RuntimeException e) {
                    // A bug must not end the subscriber silently; it stays with back-off like any failure.
                    if (!stopped) {
                        failed("unexpected error: " + e);
                    }
                }
            }
        } catch (InterruptedException e) {
            // stop() interrupts; nothing else does.
        } finally {
            LOG.debugf("userstore-gateway '%s': change-feed subscriber stopped", name);
        }
    }

    private void followOnce() throws InterruptedException {
        boolean startingOver = cursor == null;
        Optional<GatewayClient.Changes> answer;
        try {
            answer = client.changes(cursor, startingOver ? 0 : shared.timing().waitSeconds());
        } catch (GatewayException e) {
            if (stopped) {
                return;
            }
            if (e.kind() == GatewayException.Kind.REJECTED) {
                // Up, but refusing our request: maybe the position. Sending it again would be refused forever;
                // starting over from the gateway's current position evicts every cached user, so nothing is missed.
                cursor = null;
            }
            failed(e.getMessage());
            return;
        }
        if (answer.isEmpty()) {
            noFeed();
            shared.sleeper().sleep(shared.timing().noFeedRetry());
            return;
        }
        GatewayClient.Changes changes = answer.get();
        try {
            evict(changes, startingOver);
        } catch (RuntimeException e) {
            if (stopped) {
                return;
            }
            // The position stays where it was, so the gateway answers the same changes again.
            failed("evicting users from Keycloak's user cache failed: " + e);
            return;
        }
        cursor = changes.cursor();
        up();
    }

    private void evict(GatewayClient.Changes changes, boolean startingOver) {
        boolean all = startingOver || changes.resync() || changes.rolesChanged();
        if (changes.rolesChanged()) {
            shared.missingRoles().forgetAll();
        }
        List<CachedUsers.Entry> users = all
                ? shared.cachedUsers().takeAll(componentId)
                : shared.cachedUsers().take(componentId, changes.changes());
        if (changes.resync() && !startingOver) {
            LOG.infof("userstore-gateway '%s': the gateway can no longer tell what changed since position %s"
                    + " (resync); evicting all %d cached users of this component", name, cursor, users.size());
        }
        if (users.isEmpty()) {
            return;
        }
        try {
            shared.evictor().evict(users);
        } catch (RuntimeException e) {
            shared.cachedUsers().putBack(users);
            throw e;
        }
        LOG.debugf("userstore-gateway '%s': evicted %d users from the user cache (%s)", name, users.size(),
                startingOver ? "starting to follow the change feed" : changes.resync() ? "resync"
                        : changes.rolesChanged() ? "roles changed" : "changed in the database");
    }

    private void up() {
        switch (health) {
            case STARTING -> LOG.infof("userstore-gateway '%s': following the gateway's change feed; users changed in"
                    + " the database leave Keycloak's user cache at once", name);
            case DOWN -> LOG.infof("userstore-gateway '%s': the change feed is back after %d s; following it again",
                    name, (System.nanoTime() - downSinceNanos) / 1_000_000_000L);
            case NO_FEED -> LOG.infof("userstore-gateway '%s': the gateway offers a change feed now; following it",
                    name);
            case UP -> {
                // nothing new to say
            }
        }
        health = Health.UP;
        backoff = shared.timing().firstBackoff();
    }

    private void failed(String reason) throws InterruptedException {
        if (health != Health.DOWN) {
            LOG.warnf("userstore-gateway '%s': following the change feed failed: %s; retrying with a back-off of up"
                    + " to %d s, and until it works no cached user outlives maxStalenessMs (%d ms)", name, reason,
                    shared.timing().maxBackoff().toSeconds(), client.config().maxStaleness().toMillis());
            health = Health.DOWN;
            downSinceNanos = System.nanoTime();
        } else {
            LOG.debugf("userstore-gateway '%s': the change feed still fails, next try in %d ms: %s", name,
                    backoff.toMillis(), reason);
        }
        shared.sleeper().sleep(backoff);
        Duration doubled = backoff.multipliedBy(2);
        backoff = doubled.compareTo(shared.timing().maxBackoff()) > 0 ? shared.timing().maxBackoff() : doubled;
    }

    private void noFeed() {
        if (health != Health.NO_FEED) {
            LOG.infof("userstore-gateway '%s': the gateway offers no change feed; cached users are evicted after"
                    + " maxStalenessMs (%d ms)", name, client.config().maxStaleness().toMillis());
            health = Health.NO_FEED;
        }
        backoff = shared.timing().firstBackoff();
    }

    /** Asks Keycloak now and then; an error there is no reason to stop. */
    private boolean componentStillExists() {
        long now = System.nanoTime();
        if (now - nextExistenceCheckNanos < 0) {
            return true;
        }
        nextExistenceCheckNanos = now + shared.timing().existenceCheck().toNanos();
        try {
            return shared.evictor().componentExists(realmId, componentId);
        } catch (RuntimeException e) {
            LOG.debugf("userstore-gateway '%s': could not check whether the component still exists: %s", name, e);
            return true;
        }
    }
}
