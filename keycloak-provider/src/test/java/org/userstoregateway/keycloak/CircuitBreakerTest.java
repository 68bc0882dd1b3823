package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private static final Duration COOLDOWN = Duration.ofSeconds(10);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final CircuitBreaker breaker = new CircuitBreaker("'test' (http://gw)", 3, COOLDOWN, nanos::get);
    private final AtomicInteger calls = new AtomicInteger();
    private final LogCapture logs = LogCapture.start();

    @AfterEach
    void stopCapture() {
        logs.close();
    }

    private void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    private Supplier<String> failing(GatewayException.Kind kind) {
        return () -> {
            calls.incrementAndGet();
            throw new GatewayException(kind, "gateway answered HTTP 503", null);
        };
    }

    private final Supplier<String> working = () -> {
        calls.incrementAndGet();
        return "ok";
    };

    private void fail(int times) {
        for (int i = 0; i < times; i++) {
            assertThrows(GatewayException.class, () -> breaker.call(failing(GatewayException.Kind.UNAVAILABLE)));
        }
    }

    private GatewayException refused() {
        GatewayException e = assertThrows(GatewayException.class, () -> breaker.call(working));
        assertTrue(e.isCircuitOpen(), e.getMessage());
        return e;
    }

    private List<String> linesAt(String level) {
        return logs.lines().stream().filter(line -> line.startsWith(level + " ")).toList();
    }

    @Test
    void call_thresholdFailuresInARow_opensTheCircuitWithOneWarning() {
        fail(2);
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());

        fail(1);

        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertEquals(1, logs.warnings().size(), logs.warnings().toString());
        String warning = logs.warnings().get(0);
        assertTrue(warning.contains("'test' (http://gw)") && warning.contains("3 calls in a row failed")
                && warning.contains("gateway answered HTTP 503") && warning.contains("circuit open"), warning);
    }

    @Test
    void call_whileOpen_failsAtOnceWithoutCallingAndWithoutLogging() {
        fail(3);
        int before = calls.get();

        GatewayException first = refused();
        advance(Duration.ofMillis(4_200));
        GatewayException later = refused();
        for (int i = 0; i < 100; i++) {
            refused();
        }

        assertEquals(before, calls.get());
        assertEquals("gateway unavailable, circuit open, next probe in 10 s", first.getMessage());
        assertEquals("gateway unavailable, circuit open, next probe in 6 s", later.getMessage());
        assertEquals(1, logs.warnings().size(), "one WARN for the opening, none per call");
    }

    @Test
    void call_successBetweenFailures_resetsTheCount() {
        fail(2);
        breaker.call(working);
        fail(2);

        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void call_rejectedAnswers_showTheGatewayIsUpAndResetTheCount() {
        fail(2);
        assertThrows(GatewayException.class, () -> breaker.call(failing(GatewayException.Kind.REJECTED)));
        fail(2);

        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void call_notSent_doesNotCount() {
        for (int i = 0; i < 10; i++) {
            assertThrows(GatewayException.class, () -> breaker.call(failing(GatewayException.Kind.NOT_SENT)));
        }

        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void call_unexpectedException_countsAsAFailure() {
        for (int i = 0; i < 3; i++) {
            assertThrows(IllegalStateException.class, () -> breaker.call(() -> {
                throw new IllegalStateException("bug");
            }));
        }

        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
    }

    @Test
    void halfOpen_probeSucceeds_closesWithOneInfoLine() {
        fail(3);
        advance(COOLDOWN);

        assertEquals("ok", breaker.call(working));

        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        List<String> infos = linesAt("INFO");
        assertEquals(1, infos.size(), logs.lines().toString());
        assertTrue(infos.get(0).contains("circuit closed after 10 s"), infos.get(0));
        assertEquals("ok", breaker.call(working));
        assertEquals(1, linesAt("INFO").size());
    }

    @Test
    void halfOpen_probeFails_reopensForAnotherCooldownWithoutAnotherWarning() {
        fail(3);
        advance(COOLDOWN);
        int before = calls.get();

        assertThrows(GatewayException.class, () -> breaker.call(failing(GatewayException.Kind.UNAVAILABLE)));

        assertEquals(before + 1, calls.get());
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertEquals("gateway unavailable, circuit open, next probe in 10 s", refused().getMessage());
        advance(COOLDOWN.minusMillis(1));
        refused();
        advance(Duration.ofMillis(1));
        assertEquals("ok", breaker.call(working));
        assertEquals(1, logs.warnings().size(), logs.warnings().toString());
    }

    @Test
    void halfOpen_probeNotSent_letsTheNextCallerProbe() {
        fail(3);
        advance(COOLDOWN);

        assertThrows(GatewayException.class, () -> breaker.call(failing(GatewayException.Kind.NOT_SENT)));

        assertEquals("ok", breaker.call(working));
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
    }

    @Test
    void closed_lateFailureFromBeforeTheOutage_doesNotCountAfterRecovery() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> slow = pool.submit(() -> assertThrows(GatewayException.class, () -> breaker.call(() -> {
                started.countDown();
                await(release);
                throw new GatewayException("the gateway did not answer within 5000 ms");
            })));
            started.await();
            fail(3);
            advance(COOLDOWN);
            breaker.call(working);
            fail(2);

            release.countDown();
            slow.get(5, TimeUnit.SECONDS);

            assertEquals(CircuitBreaker.State.CLOSED, breaker.state(), "the late failure belongs to the old period");
        } finally {
            pool.shutdownNow();
        }
    }

    // Asking without throwing, as a client with several gateways does.

    @Test
    void tryAdmit_closed_admitsEveryCall() {
        for (int i = 0; i < 10; i++) {
            CircuitBreaker.Admission admission = breaker.tryAdmit();
            assertTrue(admission.admitted());
            assertEquals("ok", breaker.call(admission, working));
        }
    }

    @Test
    void tryAdmit_openBeforeTheCooldown_refusesWithTheReasonAndChangesNothing() {
        fail(3);
        advance(Duration.ofMillis(4_200));
        int before = calls.get();

        CircuitBreaker.Admission admission = breaker.tryAdmit();

        assertFalse(admission.admitted());
        assertEquals("circuit open, next probe in 6 s", admission.refusal());
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertThrows(IllegalArgumentException.class, () -> breaker.call(admission, working));
        assertEquals(before, calls.get(), "a refused admission never runs the call");
    }

    @Test
    void tryAdmit_afterTheCooldown_admitsOneProbeAndRefusesOthersUntilItEnds() {
        fail(3);
        advance(COOLDOWN);

        CircuitBreaker.Admission probe = breaker.tryAdmit();
        CircuitBreaker.Admission other = breaker.tryAdmit();

        assertTrue(probe.admitted());
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertFalse(other.admitted());
        assertEquals("circuit open, a probe call is under way", other.refusal());
        assertEquals("ok", breaker.call(probe, working));
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertEquals(1, linesAt("INFO").size(), logs.lines().toString());
        assertTrue(breaker.tryAdmit().admitted());
    }

    @Test
    void call_connectionFailures_countLikeOtherFailures() {
        for (int i = 0; i < 3; i++) {
            assertThrows(GatewayException.class, () -> breaker.call(failing(GatewayException.Kind.CONNECTION)));
        }

        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertEquals(1, logs.warnings().size(), logs.warnings().toString());
    }

    // Against the stub gateway: what reaches the network.

    @Test
    void client_gatewayFailing_stopsSendingOnceOpen() {
        try (StubGateway gateway = new StubGateway();
             GatewayClient client = new GatewayClient(GatewayConfig.from(gateway.component()), url -> breaker)) {
            gateway.on("GET", "/v1/users/1", StubGateway.problem(503, "Service Unavailable", "database down"));
            for (int i = 0; i < 3; i++) {
                assertThrows(GatewayException.class, () -> client.userById("1"));
            }

            for (int i = 0; i < 20; i++) {
                GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));
                assertTrue(e.isCircuitOpen(), e.getMessage());
            }
            assertThrows(GatewayException.class, () -> client.verifyPassword("1", "secret"));
            assertThrows(GatewayException.class, () -> client.searchUsers("*", 0, 10));
            assertThrows(GatewayException.class, () -> client.countUsers("*"));

            assertEquals(3, gateway.requests().size(), "no request may reach the gateway while the circuit is open");
        }
    }

    @Test
    void client_notFoundAnswers_doNotCount() {
        try (StubGateway gateway = new StubGateway();
             GatewayClient client = new GatewayClient(GatewayConfig.from(gateway.component()), url -> breaker)) {
            for (int i = 0; i < 10; i++) {
                assertEquals(Optional.empty(), client.userByUsername("ghost" + i));
            }

            assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
            assertEquals(10, gateway.requests().size());
        }
    }

    @Test
    void client_garbageAnswers_count() {
        try (StubGateway gateway = new StubGateway();
             GatewayClient client = new GatewayClient(GatewayConfig.from(gateway.component()), url -> breaker)) {
            gateway.on("GET", "/v1/users/1", StubGateway.json("<html>proxy error</html>"));
            for (int i = 0; i < 3; i++) {
                assertThrows(GatewayException.class, () -> client.userById("1"));
            }

            assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        }
    }

    @Test
    void client_halfOpenWithConcurrentCallers_sendsOneProbe() throws Exception {
        CountDownLatch probeArrived = new CountDownLatch(1);
        CountDownLatch releaseProbe = new CountDownLatch(1);
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try (StubGateway gateway = new StubGateway();
             GatewayClient client = new GatewayClient(GatewayConfig.from(gateway.component()), url -> breaker)) {
            fail(3); // opens the circuit without the network
            advance(COOLDOWN);
            gateway.on("GET", "/v1/users/1", request -> {
                probeArrived.countDown();
                await(releaseProbe);
                return StubGateway.json(TestUsers.MAX);
            });

            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(callers.submit(() -> {
                    try {
                        return client.userById("1").map(GatewayUser::username).orElse("none");
                    } catch (GatewayException e) {
                        return e.isCircuitOpen() ? "fast" : "failed: " + e.getMessage();
                    }
                }));
            }
            assertTrue(probeArrived.await(5, TimeUnit.SECONDS), "the probe reached the gateway");
            // Everyone but the probe fails fast while it is under way.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (results.stream().filter(Future::isDone).count() < 7 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            releaseProbe.countDown();

            List<String> outcomes = new ArrayList<>();
            for (Future<String> result : results) {
                outcomes.add(result.get(5, TimeUnit.SECONDS));
            }
            assertEquals(1, outcomes.stream().filter("mmustermann"::equals).count(), outcomes.toString());
            assertEquals(7, outcomes.stream().filter("fast"::equals).count(), outcomes.toString());
            assertEquals(1, gateway.requests().size(), "exactly one probe request");
            assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        } finally {
            releaseProbe.countDown();
            callers.shutdownNow();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
