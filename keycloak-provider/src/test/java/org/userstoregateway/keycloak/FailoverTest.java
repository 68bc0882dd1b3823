package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.keycloak.component.ComponentModel;

/** A component with several gateway URLs: spreading, circuit breakers per gateway, and the one retry. */
class FailoverTest {

    private static final Duration COOLDOWN = Duration.ofSeconds(10);
    private static final String PASSWORD = "hunter2-pa55";

    /** Every kind of guarded call, each checking the answer it got. */
    enum Call {
        BY_ID {
            @Override
            void run(GatewayClient client) {
                assertEquals("1", client.userById("1").orElseThrow().id());
            }
        },
        BY_USERNAME {
            @Override
            void run(GatewayClient client) {
                assertEquals("1", client.userByUsername("mmustermann").orElseThrow().id());
            }
        },
        BY_EMAIL {
            @Override
            void run(GatewayClient client) {
                assertEquals("1", client.userByEmail("m.mustermann@example.test").orElseThrow().id());
            }
        },
        SEARCH {
            @Override
            void run(GatewayClient client) {
                assertEquals(2, client.searchUsers("*", 0, 10).size());
            }
        },
        COUNT {
            @Override
            void run(GatewayClient client) {
                assertEquals(2, client.countUsers("*"));
            }
        },
        VERIFY_PASSWORD {
            @Override
            void run(GatewayClient client) {
                assertTrue(client.verifyPassword("1", PASSWORD));
            }
        };

        abstract void run(GatewayClient client);
    }

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final StubGateway a = serving(new StubGateway());
    private final StubGateway b = serving(new StubGateway());
    private final List<AutoCloseable> closing = new ArrayList<>(List.of(a, b));

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable resource : closing) {
            resource.close();
        }
    }

    private static StubGateway serving(StubGateway gateway) {
        return gateway
                .on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX))
                .on("GET", "/v1/users/by-username/mmustermann", StubGateway.json(TestUsers.MAX))
                .on("GET", "/v1/users/by-email/m.mustermann%40example.test", StubGateway.json(TestUsers.MAX))
                .on("GET", "/v1/users", StubGateway.json(TestUsers.userList(0, 2)))
                .on("GET", "/v1/users/count", StubGateway.json("{\"count\":2}"))
                .on("POST", "/v1/users/1/verify-password", StubGateway.json("{\"valid\":true}"))
                .on("GET", "/v1/changes", StubGateway.changes("9"));
    }

    /** A client for {@code urls} whose breakers run on the test's clock. */
    private GatewayClient client(int threshold, String... urls) {
        return client(threshold, 500, urls);
    }

    private GatewayClient client(int threshold, int requestTimeoutMs, String... urls) {
        ComponentModel model = a.component();
        model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, String.join(", ", urls));
        model.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, String.valueOf(threshold));
        model.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, String.valueOf(requestTimeoutMs));
        GatewayClient client = new GatewayClient(GatewayConfig.from(model),
                url -> new CircuitBreaker("'test-gateway' (" + url + ")", threshold, COOLDOWN, nanos::get));
        closing.add(0, client);
        return client;
    }

    private static CircuitBreaker.State state(GatewayClient client, String url) {
        return client.breakerState(URI.create(url));
    }

    /**
     * How many connections one send of {@code call} opens to a port that drops
     * them: the JDK's HTTP client itself tries some failures once more on a new
     * connection, below what the provider counts as one attempt.
     */
    private int connectionsPerAttempt(Call call) {
        DroppingPort port = new DroppingPort();
        closing.add(port);
        GatewayClient single = client(100, port.url());
        assertThrows(GatewayException.class, () -> call.run(single));
        assertTrue(port.connections() >= 1);
        return port.connections();
    }

    private static int requests(StubGateway gateway, String rawPath) {
        return (int) gateway.requests().stream().filter(request -> request.rawPath().equals(rawPath)).count();
    }

    @ParameterizedTest
    @EnumSource(Call.class)
    void calls_twoGatewaysUp_spreadOverBoth(Call call) {
        GatewayClient client = client(5, a.url(), b.url());

        for (int i = 0; i < 40; i++) {
            call.run(client);
        }

        int onA = a.requests().size();
        int onB = b.requests().size();
        assertEquals(40, onA + onB);
        assertTrue(onA >= 10 && onA <= 30 && onB >= 10 && onB <= 30, "a: " + onA + ", b: " + onB);
    }

    @Test
    void logins_lookupThenPasswordCheck_spreadThePasswordChecksOverBoth() {
        GatewayClient client = client(5, a.url(), b.url());

        for (int i = 0; i < 20; i++) {
            Call.BY_USERNAME.run(client);
            Call.VERIFY_PASSWORD.run(client);
        }

        String verify = "/v1/users/1/verify-password";
        assertEquals(10, requests(a, verify), "a's share of the password checks");
        assertEquals(10, requests(b, verify), "b's share of the password checks");
    }

    @ParameterizedTest
    @EnumSource(Call.class)
    void calls_oneGatewayStopped_allSucceedOnTheOtherAndItsCircuitOpens(Call call) {
        GatewayClient client = client(3, a.url(), b.url());
        b.stop();

        for (int i = 0; i < 40; i++) {
            call.run(client);
        }

        assertEquals(40, a.requests().size());
        assertEquals(CircuitBreaker.State.OPEN, state(client, b.url()));
        assertEquals(CircuitBreaker.State.CLOSED, state(client, a.url()));
    }

    @Test
    void deadGateway_afterItsCircuitOpened_getsNothingUntilTheCooldownThenServesAgain() {
        try (LogCapture log = LogCapture.start()) {
            GatewayClient client = client(3, a.url(), b.url());
            b.stop();
            for (int i = 0; i < 20; i++) {
                Call.BY_ID.run(client);
            }
            assertEquals(CircuitBreaker.State.OPEN, state(client, b.url()));
            long warnings = log.warnings().stream().filter(line -> line.contains("circuit open")).count();
            assertEquals(1, warnings, log.warnings().toString());

            // Back, but its circuit is open: not one call may reach it before the cool-down has passed.
            b.restart();
            nanos.addAndGet(COOLDOWN.minusMillis(1).toNanos());
            for (int i = 0; i < 20; i++) {
                Call.BY_ID.run(client);
            }
            assertEquals(0, b.requests().size());

            nanos.addAndGet(Duration.ofMillis(1).toNanos());
            for (int i = 0; i < 40; i++) {
                Call.BY_ID.run(client);
            }

            assertEquals(CircuitBreaker.State.CLOSED, state(client, b.url()));
            assertTrue(b.requests().size() >= 15, "b served " + b.requests().size() + " of 40 after the probe");
            assertTrue(log.lines().stream().anyMatch(line -> line.startsWith("INFO ") && line.contains(b.url())
                    && line.contains("circuit closed")), log.lines().toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Call.class)
    void calls_bothGatewaysDropTheConnection_failAfterExactlyOneAttemptOnEach(Call call) {
        DroppingPort first = new DroppingPort();
        DroppingPort second = new DroppingPort();
        closing.add(first);
        closing.add(second);
        int perAttempt = connectionsPerAttempt(call);
        GatewayClient client = client(100, first.url(), second.url());

        for (int i = 1; i <= 3; i++) {
            GatewayException e = assertThrows(GatewayException.class, () -> call.run(client));

            assertEquals(GatewayException.Kind.CONNECTION, e.kind());
            assertTrue(e.getMessage().contains(first.url()) && e.getMessage().contains(second.url()),
                    e.getMessage());
            assertFalse(e.getMessage().contains(PASSWORD) || e.getMessage().contains(StubGateway.TOKEN));
            assertEquals(i * perAttempt, first.connections(), "one attempt per call on the first");
            assertEquals(i * perAttempt, second.connections(), "one attempt per call on the second");
        }
    }

    @Test
    void calls_everyCircuitOpen_failFastNamingEachGatewayWithoutTouchingTheNetwork() {
        DroppingPort first = new DroppingPort();
        DroppingPort second = new DroppingPort();
        closing.add(first);
        closing.add(second);
        int perAttempt = connectionsPerAttempt(Call.BY_ID);
        GatewayClient client = client(1, first.url(), second.url());
        assertThrows(GatewayException.class, () -> client.userById("1"));

        GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

        assertTrue(e.isCircuitOpen(), e.getMessage());
        assertTrue(e.getMessage().startsWith("all 2 gateways unavailable: "), e.getMessage());
        assertTrue(e.getMessage().contains(first.url() + ": circuit open, next probe in 10 s")
                && e.getMessage().contains(second.url() + ": circuit open, next probe in 10 s"), e.getMessage());
        assertEquals(perAttempt, first.connections());
        assertEquals(perAttempt, second.connections());
    }

    @Test
    void serverError_onOneGateway_isNotRetriedAndCountsAgainstItsBreaker() {
        a.on("GET", "/v1/users/1", StubGateway.problem(503, "Service Unavailable", "database down"));
        GatewayClient client = client(3, a.url(), b.url());

        List<GatewayException> failures = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            try {
                Call.BY_ID.run(client);
            } catch (GatewayException e) {
                failures.add(e);
            }
        }

        assertEquals(3, failures.size(), "every call that went to a fails, none is retried on b");
        assertTrue(failures.get(0).getMessage().startsWith("gateway at " + a.url() + " answered HTTP 503"),
                failures.get(0).getMessage());
        assertEquals(3, requests(a, "/v1/users/1"));
        assertEquals(3, requests(b, "/v1/users/1"));
        assertEquals(CircuitBreaker.State.OPEN, state(client, a.url()));
        for (int i = 0; i < 10; i++) {
            Call.BY_ID.run(client);
        }
        assertEquals(3, requests(a, "/v1/users/1"), "a is left out while its circuit is open");
    }

    @Test
    void clientErrorOrUnreadableAnswer_onOneGateway_isNotRetried() {
        a.on("GET", "/v1/users/1", StubGateway.problem(401, "Unauthorized", "unknown token"));
        a.on("GET", "/v1/users/count", StubGateway.json("<html>proxy error</html>"));
        GatewayClient client = client(5, a.url(), b.url());

        int failed = 0;
        for (int i = 0; i < 4; i++) {
            Call call = i < 2 ? Call.BY_ID : Call.COUNT;
            try {
                call.run(client);
            } catch (GatewayException e) {
                failed++;
            }
        }

        assertEquals(2, failed);
        assertEquals(2, a.requests().size());
        assertEquals(2, b.requests().size());
    }

    @Test
    void requestTimeout_onOneGateway_isNotRetried() {
        a.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX).after(2_000));
        GatewayClient client = client(5, a.url(), b.url());

        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            try {
                Call.BY_ID.run(client);
            } catch (GatewayException e) {
                failures.add(e.getMessage());
            }
        }

        assertEquals(List.of("the gateway at " + a.url() + " did not answer GET /v1/users/1 within 500 ms"),
                failures);
        assertEquals(1, a.requests().size());
        assertEquals(1, b.requests().size());
    }

    @Test
    void verifyPassword_connectionRefused_isRetriedOnTheOtherWithoutLoggingThePassword() {
        try (LogCapture log = LogCapture.start()) {
            GatewayClient client = client(5, a.url(), b.url());
            a.stop();

            for (int i = 0; i < 10; i++) {
                assertTrue(client.verifyPassword("1", PASSWORD));
            }

            assertEquals(10, requests(b, "/v1/users/1/verify-password"));
            assertTrue(log.warnings().stream().anyMatch(line -> line.contains("could not connect to the gateway at "
                    + a.url()) && line.endsWith(b.url() + " answered instead")), log.warnings().toString());
            assertFalse(log.everything().contains(PASSWORD));
            assertFalse(log.everything().contains(StubGateway.TOKEN));
        }
    }

    @Test
    void connectionBrokenMidRequest_isRetriedOnTheOther() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        a.on("GET", "/v1/users/1", request -> {
            arrived.countDown();
            return StubGateway.json(TestUsers.MAX).after(30_000);
        });
        GatewayClient client = client(5, 10_000, a.url(), b.url());
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            // A fresh client starts its round-robin at the first URL, so this call goes to a.
            Future<GatewayUser> user = caller.submit(() -> client.userById("1").orElseThrow());
            assertTrue(arrived.await(5, TimeUnit.SECONDS), "the call reached a");

            a.stop();

            assertEquals("mmustermann", user.get(5, TimeUnit.SECONDS).username());
            assertEquals(1, requests(b, "/v1/users/1"));
        } finally {
            caller.shutdownNow();
        }
    }

    @Test
    void close_duringACall_isNotRetriedOnTheOther() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        a.on("GET", "/v1/users/1", request -> {
            arrived.countDown();
            return StubGateway.json(TestUsers.MAX).after(30_000);
        });
        GatewayClient client = client(5, 10_000, a.url(), b.url());
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            Future<GatewayUser> user = caller.submit(() -> client.userById("1").orElseThrow());
            assertTrue(arrived.await(5, TimeUnit.SECONDS), "the call reached a");

            client.close();

            Exception e = assertThrows(Exception.class, () -> user.get(5, TimeUnit.SECONDS));
            GatewayException cause = assertInstanceOf(GatewayException.class, e.getCause());
            assertEquals(GatewayException.Kind.NOT_SENT, cause.kind());
            assertEquals(0, b.requests().size());
        } finally {
            caller.shutdownNow();
        }
    }

    // The change feed

    @Test
    void changes_oneGatewayStopped_areAnsweredByTheLiveOne() {
        GatewayClient client = client(5, a.url(), b.url());
        b.stop();

        for (int i = 0; i < 10; i++) {
            assertEquals("9", client.changes("8", 1).orElseThrow().cursor());
        }

        assertEquals(10, requests(a, "/v1/changes"));
        assertEquals(CircuitBreaker.State.CLOSED, state(client, b.url()), "the feed does not count for breakers");
    }

    @Test
    void changes_gatewayWithOpenCircuit_isNotAskedWhileAnotherIsClosed() {
        DroppingPort dead = new DroppingPort();
        closing.add(dead);
        GatewayClient client = client(2, a.url(), dead.url());
        while (state(client, dead.url()) != CircuitBreaker.State.OPEN) {
            Call.BY_ID.run(client);
        }
        int attempts = dead.connections();

        for (int i = 0; i < 10; i++) {
            assertEquals("9", client.changes("8", 1).orElseThrow().cursor());
        }

        assertEquals(attempts, dead.connections());
        assertEquals(10, requests(a, "/v1/changes"));
    }

    @Test
    void changes_everyCircuitOpen_stillAsksTheGateways() {
        a.on("GET", "/v1/users/1", StubGateway.problem(503, "Service Unavailable", "database down"));
        b.on("GET", "/v1/users/1", StubGateway.problem(503, "Service Unavailable", "database down"));
        GatewayClient client = client(1, a.url(), b.url());
        assertThrows(GatewayException.class, () -> client.userById("1"));
        assertThrows(GatewayException.class, () -> client.userById("1"));
        assertEquals(CircuitBreaker.State.OPEN, state(client, a.url()));
        assertEquals(CircuitBreaker.State.OPEN, state(client, b.url()));

        assertEquals("9", client.changes("8", 1).orElseThrow().cursor());
    }

    @Test
    void changes_bothGatewaysDropTheConnection_failAfterOneAttemptOnEach() {
        DroppingPort first = new DroppingPort();
        DroppingPort second = new DroppingPort();
        closing.add(first);
        closing.add(second);
        int perAttempt = connectionsPerAttempt(Call.BY_ID);
        GatewayClient client = client(5, first.url(), second.url());

        GatewayException e = assertThrows(GatewayException.class, () -> client.changes("8", 1));

        assertEquals(GatewayException.Kind.CONNECTION, e.kind());
        assertEquals(perAttempt, first.connections());
        assertEquals(perAttempt, second.connections());
    }
}
