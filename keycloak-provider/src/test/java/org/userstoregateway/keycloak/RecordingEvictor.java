package org.userstoregateway.keycloak;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Stands in for Keycloak's user cache: records evictions, and fails or says "component gone" on request. */
final class RecordingEvictor implements UserCacheEvictor {

    final List<List<CachedUsers.Entry>> evictions = new CopyOnWriteArrayList<>();
    volatile boolean componentExists = true;
    volatile RuntimeException failure;

    @Override
    public void evict(List<CachedUsers.Entry> users) {
        RuntimeException planned = failure;
        if (planned != null) {
            throw planned;
        }
        evictions.add(List.copyOf(users));
    }

    @Override
    public boolean componentExists(String realmId, String componentId) {
        return componentExists;
    }

    /** The Keycloak ids of every user evicted so far, in order. */
    List<String> evictedIds() {
        return evictions.stream().flatMap(List::stream).map(CachedUsers.Entry::keycloakId).toList();
    }
}
