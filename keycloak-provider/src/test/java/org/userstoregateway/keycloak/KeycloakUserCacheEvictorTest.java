package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;

class KeycloakUserCacheEvictorTest {

    private final Fakes.Server server = new Fakes.Server();
    private final Fakes.Realm realm = server.addRealm("test");
    private final KeycloakUserCacheEvictor evictor = new KeycloakUserCacheEvictor(server.jobs);
    private final CachedUsers cachedUsers = new CachedUsers();

    private List<CachedUsers.Entry> users(String realmId) {
        cachedUsers.cached(realmId, "c1", "1", "MMustermann", "m.mustermann@example.test", Duration.ofMinutes(1));
        cachedUsers.cached(realmId, "c1", "2", "nobody", null, Duration.ofMinutes(1));
        return cachedUsers.takeAll("c1");
    }

    @Test
    void evict_cachedUsers_namesEachByIdUsernameAndEmailWithoutLoadingIt() {
        evictor.evict(users("realm-test"));

        assertEquals(List.of("realm-test f:c1:1 mmustermann m.mustermann@example.test",
                "realm-test f:c1:2 nobody null"), server.evictions.stream().sorted().toList());
        assertEquals(1, server.sessions.get(), "one transaction for all");
    }

    @Test
    void evict_userCacheTurnedOff_doesNothing() {
        server.userCacheEnabled = false;

        evictor.evict(users("realm-test"));

        assertTrue(server.evictions.isEmpty());
    }

    @Test
    void evict_realmRemoved_skipsItsUsers() {
        evictor.evict(users("realm-gone"));

        assertTrue(server.evictions.isEmpty());
    }

    @Test
    void evict_nothing_opensNoSession() {
        evictor.evict(List.of());

        assertEquals(0, server.sessions.get());
    }

    @Test
    void componentExists_asksTheRealm() {
        ComponentModel component = new ComponentModel();
        component.setId("c1");
        realm.components.put("c1", component);

        assertTrue(evictor.componentExists("realm-test", "c1"));
        assertFalse(evictor.componentExists("realm-test", "c2"));
        assertFalse(evictor.componentExists("realm-gone", "c1"));
    }
}
