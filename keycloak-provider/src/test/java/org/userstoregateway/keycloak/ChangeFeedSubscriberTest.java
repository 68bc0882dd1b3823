package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;

class ChangeFeedSubscriberTest {

    private static final String REALM = "realm-test";
    private static final String COMPONENT = "component-1";
    private static final Duration MINUTE = Duration.ofMinutes(1);
    /** Back-offs are recorded, not waited out; the long-poll wait is what the stub's script makes it. */
    private static final ChangeFeedSubscriber.Timing TIMING = new ChangeFeedSubscriber.Timing(20,
            Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ZERO);

    private final StubGateway gateway = new StubGateway();
    private final StubGateway.Feed feed = new StubGateway.Feed();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final CachedUsers cachedUsers = new CachedUsers(now::get);
    private final RecordingEvictor evictor = new RecordingEvictor();
    private final List<String> roleWarnings = new CopyOnWriteArrayList<>();
    private final MissingRoleWarnings missingRoles = new MissingRoleWarnings(Duration.ofMinutes(10), now::get,
            roleWarnings::add);
    private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private final List<ChangeFeedSubscriber> gone = new CopyOnWriteArrayList<>();
    private GatewayClient client;
    private ChangeFeedSubscriber subscriber;

    @BeforeEach
    void routeTheFeed() {
        gateway.on("GET", "/v1/changes", feed);
        client = gateway.client();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (subscriber != null) {
            subscriber.stop();
            subscriber.awaitTermination(Duration.ofSeconds(5));
        }
        client.close();
        gateway.close();
    }

    private ChangeFeedSubscriber start() {
        ChangeFeedSubscriber.Shared shared = new ChangeFeedSubscriber.Shared(cachedUsers, evictor, missingRoles,
                TIMING, duration -> {
                    sleeps.add(duration);
                    Thread.sleep(5); // keeps a test's retry loop from spinning
                }, gone::add);
        subscriber = ChangeFeedSubscriber.start(shared, "test-gateway", REALM, COMPONENT, client);
        return subscriber;
    }

    private void cache(String externalId, String username, String email) {
        cachedUsers.cached(REALM, COMPONENT, externalId, username, email, MINUTE);
    }

    /** Starts at head "5" and waits until the subscriber long-polls after it, so the start's evictions are done. */
    private void startFollowingFrom5() throws InterruptedException {
        feed.then(StubGateway.changes("5"));
        start();
        assertNull(feed.nextAfter());
        assertEquals("5", feed.nextAfter());
    }

    private List<String> subscriberLines(LogCapture log) {
        return log.lines().stream().filter(line -> line.contains("change feed")).toList();
    }

    @Test
    void start_usersCachedBefore_areEvictedForThisComponentOnlyAndFollowingStartsAtTheHead() throws Exception {
        cache("1", "mmustermann", null);
        cache("2", "emusterfrau", null);
        cachedUsers.cached(REALM, "component-2", "1", "other", null, MINUTE);
        feed.then(StubGateway.changes("5"));

        start();

        StubGateway.Request head = feed.nextRequest();
        assertNull(head.rawQuery(), "the first request asks for the head");
        assertEquals("after=5&wait=20", feed.nextRequest().rawQuery());
        assertEquals(List.of("f:component-1:1", "f:component-1:2"),
                evictor.evictedIds().stream().sorted().toList());
        assertEquals(1, cachedUsers.size(), "the other component's user stays tracked");
        assertEquals("Bearer " + StubGateway.TOKEN, head.authorization());
    }

    @Test
    void changes_listedUsers_areEvictedWithTheUsernameAndEmailTheyWereCachedUnder() throws Exception {
        startFollowingFrom5();
        cache("1", "MMustermann", "M.Mustermann@example.test");
        cache("2", "emusterfrau", null);

        feed.then(StubGateway.changes("6", "1"));

        assertEquals("6", feed.nextAfter());
        assertEquals(1, evictor.evictions.size());
        CachedUsers.Entry evicted = evictor.evictions.get(0).get(0);
        assertEquals("f:component-1:1", evicted.keycloakId());
        assertEquals("mmustermann", evicted.username());
        assertEquals("m.mustermann@example.test", evicted.email());
        assertEquals(REALM, evicted.realmId());
        assertEquals(1, cachedUsers.size(), "user 2 did not change and stays cached");
    }

    @Test
    void changes_untrackedUsers_causeNoEvictionAndNoGatewayCall() throws Exception {
        startFollowingFrom5();

        feed.then(StubGateway.changes("6", "99", "100"));

        assertEquals("6", feed.nextAfter());
        assertTrue(evictor.evictions.isEmpty(), evictor.evictions.toString());
        assertTrue(gateway.requests().stream().allMatch(r -> r.rawPath().equals("/v1/changes")),
                gateway.requests().toString());
    }

    @Test
    void changes_rolesChanged_evictsEveryCachedUserAndReportsMissingRolesAgain() throws Exception {
        startFollowingFrom5();
        cache("1", "mmustermann", null);
        cache("2", "emusterfrau", null);
        missingRoles.realmRoleMissing("test", "mmustermann", "ghost");
        missingRoles.realmRoleMissing("test", "mmustermann", "ghost");
        assertEquals(1, roleWarnings.size());

        feed.then(StubGateway.changes("6", true, false));
        assertEquals("6", feed.nextAfter());
        missingRoles.realmRoleMissing("test", "mmustermann", "ghost");

        assertEquals(List.of("f:component-1:1", "f:component-1:2"),
                evictor.evictedIds().stream().sorted().toList());
        assertEquals(2, roleWarnings.size(), "a role missing after the catalogue changed is reported at once");
    }

    @Test
    void changes_resync_evictsEveryCachedUserAndContinuesFromTheReturnedCursor() throws Exception {
        startFollowingFrom5();
        cache("1", "mmustermann", null);
        cache("2", "emusterfrau", null);

        feed.then(StubGateway.changes("900", false, true));

        assertEquals("900", feed.nextAfter());
        assertEquals(List.of("f:component-1:1", "f:component-1:2"),
                evictor.evictedIds().stream().sorted().toList());
        assertEquals(0, cachedUsers.size());
    }

    @Test
    void cursor_afterAFailure_isSentAgainSoNoChangeIsLostOrRepeated() throws Exception {
        startFollowingFrom5();
        cache("1", "mmustermann", null);

        feed.then(StubGateway.problem(500, "Internal Server Error", "error id 4711"));
        assertEquals("5", feed.nextAfter(), "the same cursor again after the failure");
        feed.then(StubGateway.changes("6", "1"));
        assertEquals("6", feed.nextAfter());
        feed.then(StubGateway.changes("7"));
        assertEquals("7", feed.nextAfter());

        assertEquals(List.of("f:component-1:1"), evictor.evictedIds());
    }

    @Test
    void failures_backOffDoublingAndLogOneWarnThenOneInfoWhenBack() throws Exception {
        try (LogCapture log = LogCapture.start()) {
            startFollowingFrom5();

            feed.then(StubGateway.problem(503, "Service Unavailable", "database down"));
            assertEquals("5", feed.nextAfter());
            feed.then(StubGateway.json("<html>not json</html>"));
            assertEquals("5", feed.nextAfter());
            feed.then(StubGateway.problem(500, "Internal Server Error", "error id 4711"));
            assertEquals("5", feed.nextAfter());
            feed.then(StubGateway.changes("6"));
            assertEquals("6", feed.nextAfter());

            assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4)), sleeps);
            List<String> lines = subscriberLines(log);
            assertEquals(3, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("INFO userstore-gateway 'test-gateway': following the gateway's change"
                    + " feed"), lines.get(0));
            assertTrue(lines.get(1).startsWith("WARN userstore-gateway 'test-gateway': following the change feed"
                    + " failed: gateway at " + gateway.url() + " answered HTTP 503 to GET /v1/changes?after=5&wait=20:"
                    + " Service Unavailable:"
                    + " database down; retrying with a back-off of up to 30 s, and until it works no cached user"
                    + " outlives maxStalenessMs (60000 ms)"), lines.get(1));
            assertTrue(lines.get(2).startsWith("INFO userstore-gateway 'test-gateway': the change feed is back after"),
                    lines.get(2));
        }
    }

    @Test
    void failures_afterARecovery_startTheBackOffAfresh() throws Exception {
        startFollowingFrom5();
        feed.then(StubGateway.problem(503, "Service Unavailable", "down"));
        feed.nextRequest();
        feed.then(StubGateway.problem(503, "Service Unavailable", "down"));
        feed.nextRequest();
        feed.then(StubGateway.changes("6"));
        feed.nextRequest();

        feed.then(StubGateway.problem(503, "Service Unavailable", "down again"));
        feed.nextRequest();

        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(1)), sleeps);
    }

    @Test
    void backOff_manyFailures_staysAtTheMaximum() throws Exception {
        startFollowingFrom5();
        for (int i = 0; i < 7; i++) {
            feed.then(StubGateway.problem(503, "Service Unavailable", "down"));
            feed.nextRequest();
        }

        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L), sleeps.stream().map(Duration::toSeconds).toList());
    }

    @Test
    void gatewayWithoutFeed_logsOneInfoNoWarningAndAsksRarely() throws Exception {
        gateway.on("GET", "/v1/changes", StubGateway.problem(404, "Not Found",
                "no change log is configured for this gateway"));
        try (LogCapture log = LogCapture.start()) {
            start();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (gateway.requests().size() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(gateway.requests().size() >= 4, "asked again after each pause");
            subscriber.stop();
            assertTrue(subscriber.awaitTermination(Duration.ofSeconds(5)));

            assertEquals(List.of("INFO userstore-gateway 'test-gateway': the gateway offers no change feed; cached"
                    + " users are evicted after maxStalenessMs (60000 ms)"), subscriberLines(log));
            assertTrue(log.warnings().isEmpty(), log.warnings().toString());
            assertTrue(sleeps.stream().allMatch(Duration.ofSeconds(60)::equals), sleeps.toString());
        }
    }

    @Test
    void refusal_badCursor_startsOverFromTheHeadEvictingEveryCachedUser() throws Exception {
        startFollowingFrom5();
        cache("1", "mmustermann", null);

        feed.then(StubGateway.problem(400, "Bad Request", "after must be a non-negative integer"));
        assertNull(feed.nextAfter(), "asks for the head again");
        feed.then(StubGateway.changes("42"));
        assertEquals("42", feed.nextAfter());

        assertEquals(List.of("f:component-1:1"), evictor.evictedIds());
    }

    @Test
    void eviction_failing_keepsTheCursorAndTheUsersAndRetries() throws Exception {
        startFollowingFrom5();
        cache("1", "mmustermann", null);
        evictor.failure = new IllegalStateException("database of Keycloak down");

        feed.then(StubGateway.changes("6", "1"));
        assertEquals("5", feed.nextAfter(), "the answer is asked for again");
        assertEquals(1, cachedUsers.size(), "the user is still tracked");
        evictor.failure = null;
        feed.then(StubGateway.changes("6", "1"));
        assertEquals("6", feed.nextAfter());

        assertEquals(List.of("f:component-1:1"), evictor.evictedIds());
        assertEquals(0, cachedUsers.size());
    }

    @Test
    void stop_duringAPendingLongPoll_endsPromptly() throws Exception {
        startFollowingFrom5();

        subscriber.stop();

        assertTrue(subscriber.awaitTermination(Duration.ofSeconds(5)), "the subscriber ended");
        assertFalse(subscriber.isRunning());
    }

    @Test
    void componentRemovedOnAnotherNode_subscriberStopsByItself() throws Exception {
        cache("1", "mmustermann", null);
        evictor.componentExists = false;
        try (LogCapture log = LogCapture.start()) {
            start();

            assertTrue(subscriber.awaitTermination(Duration.ofSeconds(5)));
            assertEquals(List.of(subscriber), gone);
            assertEquals(0, cachedUsers.size(), "its users are forgotten");
            assertTrue(gateway.requests().isEmpty());
            assertTrue(log.lines().contains("INFO userstore-gateway 'test-gateway': the component no longer exists;"
                    + " its change-feed subscriber on this node stops"), log.lines().toString());
        }
    }

    @Test
    void feedFailures_neverOpenTheLoginCircuitBreaker() throws Exception {
        ComponentModel model = gateway.component();
        model.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, "1");
        client.close();
        client = new GatewayClient(GatewayConfig.from(model), "test-gateway");
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));
        startFollowingFrom5();
        for (int i = 0; i < 3; i++) {
            feed.then(StubGateway.problem(503, "Service Unavailable", "down"));
            feed.nextRequest();
        }

        assertEquals(CircuitBreaker.State.CLOSED, client.breakerState(URI.create(gateway.url())));
        assertEquals("1", client.userById("1").orElseThrow().id());
    }

    @Test
    void logLines_anyOutcome_neverShowTheToken() throws Exception {
        try (LogCapture log = LogCapture.start()) {
            startFollowingFrom5();
            feed.then(StubGateway.problem(401, "Unauthorized", "unknown token"));
            feed.nextRequest();
            feed.then(StubGateway.problem(503, "Service Unavailable", "down"));
            feed.nextRequest();
            feed.then(StubGateway.changes("6"));
            feed.nextRequest();
            subscriber.stop();
            assertTrue(subscriber.awaitTermination(Duration.ofSeconds(5)));

            assertFalse(log.everything().contains(StubGateway.TOKEN), log.everything());
            assertTrue(log.everything().contains("check the API token"), log.everything());
        }
    }
}
