package org.userstoregateway.keycloak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import org.keycloak.storage.StorageId;

/**
 * The users of this provider that this Keycloak node has put into its user
 * cache, with the username and email they were cached under. Keycloak keys its
 * cache entries by id, username and email, so evicting a user needs all three,
 * and taking them from here spares a gateway call per eviction. A user not
 * listed here is not cached on this node and needs no eviction.
 *
 * <p>Entries leave when they are evicted; none outlives its component's
 * {@code maxStalenessMs} by more than a sweep, which keeps the map as small as
 * the set of users cached within that time. One instance per factory;
 * thread-safe.
 */
final class CachedUsers {

    /** One cached user; {@code username} and {@code email} in lower case, as Keycloak's cache keys have them. */
    record Entry(String realmId, String componentId, String externalId, String username, String email,
                 long cachedAtMillis, long maxStalenessMillis) {

        /** {@code f:<component id>:<external id>}, the id Keycloak caches the user under. */
        String keycloakId() {
            return new StorageId(componentId, externalId).getId();
        }

        boolean isStaleAt(long nowMillis) {
            return nowMillis - cachedAtMillis >= maxStalenessMillis;
        }
    }

    /** Component ids are unique across realms, so the realm is not part of the key. */
    private record Key(String componentId, String externalId) {
    }

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final LongSupplier clockMillis;

    CachedUsers() {
        this(System::currentTimeMillis);
    }

    CachedUsers(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    /** Keycloak has just cached this user; a user cached again starts a new staleness period. */
    void cached(String realmId, String componentId, String externalId, String username, String email,
                Duration maxStaleness) {
        Entry entry = new Entry(realmId, componentId, externalId, cacheKey(username), cacheKey(email),
                clockMillis.getAsLong(), maxStaleness.toMillis());
        entries.put(new Key(componentId, externalId), entry);
    }

    /** Removes and returns those of {@code externalIds} that are tracked for the component. */
    List<Entry> take(String componentId, Collection<String> externalIds) {
        List<Entry> taken = new ArrayList<>();
        for (String externalId : externalIds) {
            Entry entry = entries.remove(new Key(componentId, externalId));
            if (entry != null) {
                taken.add(entry);
            }
        }
        return taken;
    }

    /** Removes and returns every tracked user of the component. */
    List<Entry> takeAll(String componentId) {
        return takeIf(entry -> entry.componentId().equals(componentId));
    }

    /**
     * Removes and returns every user whose component's maximum staleness has
     * passed, or will have passed within {@code aheadMillis} (the time to the
     * next sweep), so that no user stays cached longer than that maximum.
     */
    List<Entry> takeStale(long aheadMillis) {
        long then = clockMillis.getAsLong() + aheadMillis;
        return takeIf(entry -> entry.isStaleAt(then));
    }

    /**
     * Tracks users again whose eviction failed, so a later sweep or answer retries
     * them. A user cached again meanwhile keeps its newer entry.
     */
    void putBack(Collection<Entry> failed) {
        for (Entry entry : failed) {
            entries.putIfAbsent(new Key(entry.componentId(), entry.externalId()), entry);
        }
    }

    int size() {
        return entries.size();
    }

    private List<Entry> takeIf(Predicate<Entry> condition) {
        List<Entry> taken = new ArrayList<>();
        for (Map.Entry<Key, Entry> candidate : entries.entrySet()) {
            // Removing only this very entry leaves one that was cached again in the meantime.
            if (condition.test(candidate.getValue()) && entries.remove(candidate.getKey(), candidate.getValue())) {
                taken.add(candidate.getValue());
            }
        }
        return taken;
    }

    /** A blank username or email is no cache key at all. */
    private static String cacheKey(String value) {
        return Strings.lowerCase(Strings.blankToNull(value));
    }
}
