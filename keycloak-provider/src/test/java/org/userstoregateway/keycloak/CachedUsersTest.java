package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class CachedUsersTest {

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final CachedUsers cachedUsers = new CachedUsers(now::get);

    @Test
    void cached_mixedCase_keepsUsernameAndEmailInLowerCaseAsKeycloakKeysThem() {
        cachedUsers.cached("r", "c1", "1", "MMustermann", "M.Mustermann@Example.TEST", Duration.ofMinutes(1));

        CachedUsers.Entry entry = cachedUsers.takeAll("c1").get(0);

        assertEquals("mmustermann", entry.username());
        assertEquals("m.mustermann@example.test", entry.email());
        assertEquals("f:c1:1", entry.keycloakId());
        assertEquals(1_000_000, entry.cachedAtMillis());
    }

    @Test
    void cached_blankEmail_isNull() {
        cachedUsers.cached("r", "c1", "1", "u", " ", Duration.ofMinutes(1));

        assertNull(cachedUsers.takeAll("c1").get(0).email());
    }

    @Test
    void take_untrackedIdsOrOtherComponent_returnsOnlyTrackedOnesOfThatComponent() {
        cachedUsers.cached("r", "c1", "1", "a", null, Duration.ofMinutes(1));
        cachedUsers.cached("r", "c2", "2", "b", null, Duration.ofMinutes(1));

        List<CachedUsers.Entry> taken = cachedUsers.take("c1", List.of("1", "2", "3"));

        assertEquals(List.of("f:c1:1"), taken.stream().map(CachedUsers.Entry::keycloakId).toList());
        assertEquals(1, cachedUsers.size());
        assertTrue(cachedUsers.take("c1", List.of("1")).isEmpty(), "taken users are no longer tracked");
    }

    @Test
    void putBack_userCachedAgainMeanwhile_keepsTheNewerEntry() {
        cachedUsers.cached("r", "c1", "1", "a", null, Duration.ofMinutes(1));
        List<CachedUsers.Entry> taken = cachedUsers.takeAll("c1");
        now.addAndGet(10_000);
        cachedUsers.cached("r", "c1", "1", "a", null, Duration.ofMinutes(1));

        cachedUsers.putBack(taken);

        assertEquals(1_010_000, cachedUsers.takeAll("c1").get(0).cachedAtMillis());
    }
}
