package org.userstoregateway.keycloak;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

/**
 * Warns about roles the user database grants but the realm does not define,
 * at most once per (realm, client, role) and interval, so a busy login path
 * does not flood the log with the same line. Shared by all sessions.
 */
public final class MissingRoleWarnings {

    private static final Logger LOG = Logger.getLogger(MissingRoleWarnings.class);

    /** Past this many remembered keys, expired ones are dropped; a realm rarely has that many broken roles. */
    private static final int PRUNE_THRESHOLD = 10_000;

    private final long intervalMillis;
    private final LongSupplier clockMillis;
    private final Consumer<String> sink;
    private final Map<Key, Long> lastWarned = new ConcurrentHashMap<>();

    private record Key(String realm, String clientId, String role) {
    }

    /** Logs at WARN through JBoss Logging, at most once per key every {@code interval}. */
    public MissingRoleWarnings(Duration interval) {
        this(interval, System::currentTimeMillis, LOG::warn);
    }

    MissingRoleWarnings(Duration interval, LongSupplier clockMillis, Consumer<String> sink) {
        this.intervalMillis = interval.toMillis();
        this.clockMillis = clockMillis;
        this.sink = sink;
    }

    /** The realm has no realm role {@code role}. */
    public void realmRoleMissing(String realm, String username, String role) {
        warnOnce(new Key(realm, null, role), () -> String.format(
                "userstore-gateway: user '%s' has realm role '%s' in the user database, but realm '%s' has"
                        + " no such role; the role is skipped", username, role, realm));
    }

    /** The realm has no client {@code clientId}. */
    public void clientMissing(String realm, String username, String clientId, String role) {
        warnOnce(new Key(realm, clientId, role), () -> String.format(
                "userstore-gateway: user '%s' has role '%s' of client '%s' in the user database, but realm '%s' has"
                        + " no client with that clientId; the role is skipped", username, role, clientId, realm));
    }

    /** The client exists but has no role {@code role}. */
    public void clientRoleMissing(String realm, String username, String clientId, String role) {
        warnOnce(new Key(realm, clientId, role), () -> String.format(
                "userstore-gateway: user '%s' has role '%s' of client '%s' in the user database, but that client in"
                        + " realm '%s' has no such role; the role is skipped", username, role, clientId, realm));
    }

    /**
     * Forgets which roles were reported, so the next missing role is reported at
     * once: called when the database's role catalogue changed, as a role that
     * went missing just now deserves a line now, not after the interval.
     */
    public void forgetAll() {
        lastWarned.clear();
    }

    private void warnOnce(Key key, Supplier<String> message) {
        long now = clockMillis.getAsLong();
        boolean[] due = {false};
        lastWarned.compute(key, (k, last) -> {
            if (last == null || now - last >= intervalMillis) {
                due[0] = true;
                return now;
            }
            return last;
        });
        if (due[0]) {
            sink.accept(message.get());
            if (lastWarned.size() > PRUNE_THRESHOLD) {
                lastWarned.values().removeIf(last -> now - last >= intervalMillis);
            }
        }
    }
}
