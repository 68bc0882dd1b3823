package org.userstoregateway.keycloak;

import java.util.List;

/**
 * Where evictions go: Keycloak's user cache in production
 * ({@link KeycloakUserCacheEvictor}), a recording fake in tests. Both calls
 * open a Keycloak session of their own, so callers are background threads,
 * never a request thread.
 */
interface UserCacheEvictor {

    /** Drops these users, of any realms and components, from Keycloak's user cache, in one transaction. */
    void evict(List<CachedUsers.Entry> users);

    /**
     * Whether the component still exists. Removing a component runs
     * {@code preRemove} only on the node where the admin removed it; every other
     * node's subscriber learns it from here.
     */
    boolean componentExists(String realmId, String componentId);
}
