package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class StaleUserSweeperTest {

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final CachedUsers cachedUsers = new CachedUsers(now::get);
    private final RecordingEvictor evictor = new RecordingEvictor();
    private final StaleUserSweeper sweeper = new StaleUserSweeper(cachedUsers, evictor);

    private void cache(String componentId, String externalId, Duration maxStaleness) {
        cachedUsers.cached("realm-test", componentId, externalId, "user" + externalId, null, maxStaleness);
    }

    @Test
    void run_usersOlderThanMaxStaleness_areEvictedAndYoungerOnesKept() {
        cache("c1", "old", Duration.ofSeconds(60));
        now.addAndGet(30_000);
        cache("c1", "young", Duration.ofSeconds(60));
        now.addAndGet(30_000);

        sweeper.run();

        assertEquals(List.of("f:c1:old"), evictor.evictedIds());
        assertEquals(1, cachedUsers.size());
    }

    @Test
    void run_componentsWithDifferentMaxStaleness_eachKeepsItsOwn() {
        cache("short", "1", Duration.ofSeconds(5));
        cache("long", "1", Duration.ofSeconds(60));
        now.addAndGet(5_000);

        sweeper.run();

        assertEquals(List.of("f:short:1"), evictor.evictedIds());
    }

    @Test
    void run_nothingDueBeforeTheNextSweep_opensNoTransaction() {
        cache("c1", "1", Duration.ofSeconds(60));
        now.addAndGet(60_000 - StaleUserSweeper.PERIOD.toMillis() - 1);

        sweeper.run();

        assertTrue(evictor.evictions.isEmpty());
    }

    @Test
    void run_userDueBeforeTheNextSweep_isEvictedNowSoNoneOutlivesMaxStaleness() {
        cache("c1", "1", Duration.ofSeconds(60));
        now.addAndGet(60_000 - StaleUserSweeper.PERIOD.toMillis() + 1);

        sweeper.run();

        assertEquals(List.of("f:c1:1"), evictor.evictedIds());
    }

    @Test
    void run_userCachedAgain_startsItsPeriodAfresh() {
        cache("c1", "1", Duration.ofSeconds(60));
        now.addAndGet(50_000);
        cache("c1", "1", Duration.ofSeconds(60));
        now.addAndGet(50_000);

        sweeper.run();

        assertTrue(evictor.evictions.isEmpty());
    }

    @Test
    void run_evictionFails_keepsTheUsersWarnsOnceAndSaysWhenItWorksAgain() {
        cache("c1", "1", Duration.ofSeconds(1));
        now.addAndGet(1_000);
        evictor.failure = new IllegalStateException("no database");
        try (LogCapture log = LogCapture.start()) {
            sweeper.run();
            sweeper.run();
            assertEquals(1, cachedUsers.size(), "kept for the next sweep");
            evictor.failure = null;
            sweeper.run();

            assertEquals(List.of("f:c1:1"), evictor.evictedIds());
            assertEquals(List.of(
                    "WARN userstore-gateway: evicting 1 users cached for longer than maxStalenessMs failed;"
                            + " retrying every second",
                    "INFO userstore-gateway: evicting users cached for longer than maxStalenessMs works again"),
                    log.lines());
        }
    }
}
