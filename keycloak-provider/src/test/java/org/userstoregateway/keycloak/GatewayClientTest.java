package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.keycloak.component.ComponentModel;

class GatewayClientTest {

    private final StubGateway gateway = new StubGateway();
    private final GatewayClient client = gateway.client();

    @AfterEach
    void stop() {
        client.close();
        gateway.close();
    }

    @Test
    void userByUsername_found_returnsEveryField() {
        gateway.on("GET", "/v1/users/by-username/mmustermann", StubGateway.json(TestUsers.MAX));

        GatewayUser user = client.userByUsername("mmustermann").orElseThrow();

        assertEquals("1", user.id());
        assertEquals("mmustermann", user.username());
        assertEquals("m.mustermann@example.test", user.email());
        assertEquals("Max", user.firstName());
        assertEquals("Mustermann", user.lastName());
        assertTrue(user.enabled());
        assertFalse(user.emailVerified());
        assertEquals(1700000000000L, user.createdTimestamp());
        assertEquals(Map.of("phone", List.of("+49 30 1234567")), user.attributes());
        assertEquals(List.of("testrole"), user.realmRoles());
        assertEquals(Map.of("testclient", List.of("admin")), user.clientRoles());
    }

    @Test
    void userById_hasUsablePassword_isReadAndMissingMeansTrue() {
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB));
        gateway.on("GET", "/v1/users/6", StubGateway.json(TestUsers.BOB_WITH_HASH.replace("\"5\"", "\"6\"")));
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));

        assertFalse(client.userById("5").orElseThrow().hasUsablePassword());
        assertTrue(client.userById("6").orElseThrow().hasUsablePassword());
        assertTrue(client.userById("1").orElseThrow().hasUsablePassword(), "an older gateway sends no such field");
    }

    @Test
    void userById_nullableFieldsNull_keepsThemNull() {
        gateway.on("GET", "/v1/users/7", StubGateway.json(TestUsers.SPARSE));

        GatewayUser user = client.userById("7").orElseThrow();

        assertNull(user.email());
        assertNull(user.firstName());
        assertNull(user.createdTimestamp());
        assertTrue(user.attributes().isEmpty());
    }

    @Test
    void userByEmail_found_usesTheEmailRoute() {
        gateway.on("GET", "/v1/users/by-email/m.mustermann%40example.test", StubGateway.json(TestUsers.MAX));

        assertEquals("1", client.userByEmail("m.mustermann@example.test").orElseThrow().id());
    }

    @Test
    void lookups_unknownUser_returnEmpty() {
        assertEquals(Optional.empty(), client.userById("404"));
        assertEquals(Optional.empty(), client.userByUsername("ghost"));
        assertEquals(Optional.empty(), client.userByEmail("ghost@example.test"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "a b/c+d@e%f?g#h&i | a%20b%2Fc%2Bd%40e%25f%3Fg%23h%26i",
        "jürgen.o'neil     | j%C3%BCrgen.o%27neil",
        "..                | %2E%2E",
        "plain-name_1.x~y  | plain-name_1.x~y",
    })
    void userByUsername_oddCharacters_stayInOneEncodedPathSegment(String username, String encoded) {
        client.userByUsername(username);

        assertEquals("/v1/users/by-username/" + encoded, gateway.lastRequest().rawPath());
    }

    @Test
    void everyRequest_carriesTheBearerToken() {
        gateway.on("GET", "/v1/users", StubGateway.json(TestUsers.userList(0, 0)));
        gateway.on("GET", "/v1/users/count", StubGateway.json("{\"count\":0}"));
        gateway.on("POST", "/v1/users/1/verify-password", StubGateway.json("{\"valid\":false}"));
        client.userById("1");
        client.searchUsers("*", 0, 10);
        client.countUsers("*");
        client.verifyPassword("1", "pw");

        assertEquals(4, gateway.requests().size());
        gateway.requests().forEach(r -> assertEquals("Bearer " + StubGateway.TOKEN, r.authorization()));
    }

    @Test
    void searchUsers_anySearch_sendsEncodedSearchFirstAndMax() {
        gateway.on("GET", "/v1/users", StubGateway.json(TestUsers.userList(0, 2)));

        List<GatewayUser> users = client.searchUsers("\"a&b=c d*\"", 20, 10);

        assertEquals(2, users.size());
        assertEquals("search=%22a%26b%3Dc%20d%2A%22&first=20&max=10", gateway.lastRequest().rawQuery());
        assertEquals(Map.of("search", "\"a&b=c d*\"", "first", "20", "max", "10"),
                StubGateway.query(gateway.lastRequest().rawQuery()));
    }

    @Test
    void countUsers_answered_returnsTheCount() {
        gateway.on("GET", "/v1/users/count", StubGateway.json("{\"count\":42}"));

        assertEquals(42, client.countUsers("mm"));
        assertEquals("search=mm", gateway.lastRequest().rawQuery());
    }

    @ParameterizedTest
    @CsvSource({"true,true", "false,false"})
    void verifyPassword_gatewayVerdict_isReturned(String valid, boolean expected) throws IOException {
        gateway.on("POST", "/v1/users/1/verify-password", StubGateway.json("{\"valid\":" + valid + "}"));

        boolean result = client.verifyPassword("1", "pä$$ \"word\"");

        assertEquals(expected, result);
        StubGateway.Request request = gateway.lastRequest();
        assertEquals("POST", request.method());
        assertEquals("application/json", request.contentType());
        assertEquals(Map.of("password", "pä$$ \"word\""), new ObjectMapper().readValue(request.body(), Map.class));
    }

    @Test
    void serverError_withProblemBody_throwsWithStatusAndDetailButNoSecret() {
        gateway.on("POST", "/v1/users/1/verify-password",
                StubGateway.problem(500, "Internal Server Error", "error id 4711"));

        GatewayException e = assertThrows(GatewayException.class, () -> client.verifyPassword("1", "hunter2"));

        assertEquals("gateway at " + gateway.url() + " answered HTTP 500 to POST /v1/users/1/verify-password:"
                + " Internal Server Error: error id 4711", e.getMessage());
        assertNoSecret(e, "hunter2");
    }

    @Test
    void unauthorized_anyRequest_hintsAtTheToken() {
        gateway.on("GET", "/v1/users/1", StubGateway.problem(401, "Unauthorized", "missing or invalid bearer token"));

        GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

        assertTrue(e.getMessage().contains("HTTP 401") && e.getMessage().contains("check the API token"), e.getMessage());
        assertNoSecret(e, null);
    }

    @Test
    void slowGateway_pastRequestTimeout_throwsTimeout() {
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX).after(2_000));

        long start = System.nanoTime();
        GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertEquals("the gateway at " + gateway.url() + " did not answer GET /v1/users/1 within 500 ms", e.getMessage());
        assertTrue(millis < 1_900, "gave up after " + millis + " ms");
    }

    @Test
    void hangingGateway_endsAtTheRequestTimeoutNotLater() {
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX).after(30_000));

        long start = System.nanoTime();
        GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertEquals("the gateway at " + gateway.url() + " did not answer GET /v1/users/1 within 500 ms", e.getMessage());
        assertTrue(millis >= 450 && millis < 2_000, "gave up after " + millis + " ms");
    }

    @Test
    void stalledBody_endsAtTheRequestTimeoutToo() {
        // Headers arrive at once, the body stops half-way: the JDK's own request timeout no longer applies.
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX).stallingBodyFor(30_000));

        long start = System.nanoTime();
        GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertEquals("the gateway at " + gateway.url() + " did not answer GET /v1/users/1 within 500 ms", e.getMessage());
        assertTrue(millis < 2_000, "gave up after " + millis + " ms");
    }

    @Test
    void interrupted_whileTheGatewayHangs_returnsAtOnceWithTheFlagSet() throws Exception {
        ComponentModel model = gateway.component();
        model.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, "30000");
        gateway.on("GET", "/v1/users/by-username/mmustermann", StubGateway.json(TestUsers.MAX).after(30_000));
        try (GatewayClient patient = new GatewayClient(GatewayConfig.from(model))) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicBoolean flagAfterwards = new AtomicBoolean();
            Thread caller = new Thread(() -> {
                try {
                    patient.userByUsername("mmustermann");
                } catch (RuntimeException e) {
                    thrown.set(e);
                }
                flagAfterwards.set(Thread.currentThread().isInterrupted());
            });
            caller.start();
            waitForRequests(1);

            long start = System.nanoTime();
            caller.interrupt();
            caller.join(5_000);
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertFalse(caller.isAlive());
            assertTrue(millis < 1_000, "returned " + millis + " ms after the interrupt");
            assertTrue(flagAfterwards.get(), "the interrupt flag is set again");
            GatewayException e = assertInstanceOf(GatewayException.class, thrown.get());
            assertEquals("interrupted while waiting for the gateway to answer GET /v1/users/by-username/mmustermann",
                    e.getMessage());
            assertEquals(GatewayException.Kind.UNAVAILABLE, e.kind());
        }
    }

    @Test
    void close_endsWaitingCallsAtOnceAndRefusesNewOnes() throws Exception {
        ComponentModel model = gateway.component();
        model.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, "30000");
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX).after(30_000));
        GatewayClient closing = new GatewayClient(GatewayConfig.from(model));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                closing.userById("1");
            } catch (RuntimeException e) {
                thrown.set(e);
            }
        });
        caller.start();
        waitForRequests(1);

        long start = System.nanoTime();
        closing.close();
        caller.join(5_000);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertFalse(caller.isAlive());
        assertTrue(millis < 1_000, "ended " + millis + " ms after close");
        GatewayException e = assertInstanceOf(GatewayException.class, thrown.get());
        assertEquals(GatewayException.Kind.NOT_SENT, e.kind());
        assertTrue(e.getMessage().contains("is closed (Keycloak is stopping)"), e.getMessage());
        GatewayException later = assertThrows(GatewayException.class, () -> closing.userById("2"));
        assertEquals(GatewayException.Kind.NOT_SENT, later.kind());
        assertEquals(1, gateway.requests().size());
    }

    @Test
    void alreadyInterrupted_sendsNothing() {
        Thread.currentThread().interrupt();
        try {
            GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

            assertEquals(GatewayException.Kind.NOT_SENT, e.kind());
            assertTrue(Thread.currentThread().isInterrupted());
            assertTrue(gateway.requests().isEmpty());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void httpClientThreads_areDaemons() {
        client.userById("1");

        List<Thread> threads = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("HttpClient-"))
                .toList();

        assertFalse(threads.isEmpty());
        threads.forEach(thread -> assertTrue(thread.isDaemon(), thread.getName() + " is not a daemon"));
    }

    @Test
    void tooManyRequests_countsAgainstTheGatewayButOtherClientErrorsDoNot() {
        gateway.on("GET", "/v1/users/1", StubGateway.problem(429, "Too Many Requests", "slow down"));
        gateway.on("GET", "/v1/users/2", StubGateway.problem(400, "Bad Request", "no"));

        assertEquals(GatewayException.Kind.UNAVAILABLE,
                assertThrows(GatewayException.class, () -> client.userById("1")).kind());
        assertEquals(GatewayException.Kind.REJECTED,
                assertThrows(GatewayException.class, () -> client.userById("2")).kind());
    }

    private void waitForRequests(int count) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (gateway.requests().size() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(count, gateway.requests().size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "<html>oops</html>",
        "{\"id\":",
        "[]",
        "null",
        "{\"username\":\"no-id\"}",
    })
    void garbageBody_forALookup_throws(String body) {
        gateway.on("GET", "/v1/users/1", StubGateway.json(body));

        GatewayException e = assertThrows(GatewayException.class, () -> client.userById("1"));

        assertTrue(e.getMessage().contains("GET /v1/users/1") || e.getMessage().contains("/v1/users/1"), e.getMessage());
        assertNoSecret(e, null);
    }

    @Test
    void garbageBody_forAVerdict_throwsWithoutQuotingTheBody() {
        gateway.on("POST", "/v1/users/1/verify-password", StubGateway.json("{\"valid\":\"hunter2\"}"));

        GatewayException e = assertThrows(GatewayException.class, () -> client.verifyPassword("1", "hunter2"));

        assertNoSecret(e, "hunter2");
    }

    @Test
    void connectionRefused_anyRequest_throwsNamingTheGateway() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        ComponentModel model = gateway.component();
        model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, "http://127.0.0.1:" + closedPort);
        try (GatewayClient refused = new GatewayClient(GatewayConfig.from(model))) {
            GatewayException e = assertThrows(GatewayException.class, () -> refused.verifyPassword("1", "hunter2"));

            assertTrue(e.getMessage().startsWith("could not connect to the gateway at http://127.0.0.1:" + closedPort),
                    e.getMessage());
            assertNoSecret(e, "hunter2");
        }
    }

    @Test
    void searchUsers_pages_trackTheLargestPageSeen() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        client.searchUsers("*", 0, 30);
        assertEquals(30, client.largestPageSeen());
        client.searchUsers("*", 0, 500);
        assertEquals(100, client.largestPageSeen());
        client.searchUsers("*", 240, 100);
        assertEquals(100, client.largestPageSeen());
    }

    // The change feed

    @Test
    void changes_withoutCursor_asksForTheHeadWithoutWaiting() {
        gateway.on("GET", "/v1/changes", StubGateway.json(
                "{\"cursor\":\"17\",\"changes\":[],\"rolesChanged\":false,\"resync\":false}"));

        GatewayClient.Changes head = client.changes(null, 20).orElseThrow();

        assertEquals(new GatewayClient.Changes("17", List.of(), false, false), head);
        assertNull(gateway.lastRequest().rawQuery());
        assertEquals("Bearer " + StubGateway.TOKEN, gateway.lastRequest().authorization());
    }

    @Test
    void changes_withCursor_sendsItBackEncodedWithTheWait() {
        gateway.on("GET", "/v1/changes", StubGateway.changes("18", true, false, "1", "2", "1"));

        GatewayClient.Changes changes = client.changes("17", 20).orElseThrow();

        assertEquals("after=17&wait=20", gateway.lastRequest().rawQuery());
        assertEquals(new GatewayClient.Changes("18", List.of("1", "2"), true, false), changes);
        client.changes("a b&c", 5);
        assertEquals("after=a%20b%26c&wait=5", gateway.lastRequest().rawQuery());
    }

    @Test
    void changes_fieldsMissingOrNull_meanNothingChanged() {
        gateway.on("GET", "/v1/changes", StubGateway.json("{\"cursor\":\"3\",\"changes\":null}"));

        assertEquals(new GatewayClient.Changes("3", List.of(), false, false), client.changes("2", 1).orElseThrow());
    }

    @Test
    void changes_gatewayWithoutFeed_isEmpty() {
        gateway.on("GET", "/v1/changes", StubGateway.problem(404, "Not Found", "no change log is configured"));

        assertEquals(Optional.empty(), client.changes(null, 0));
        assertEquals(Optional.empty(), client.changes("5", 20));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"changes\":[]}", "{\"cursor\":\" \"}", "[]", "not json"})
    void changes_answerWithoutCursor_throws(String body) {
        gateway.on("GET", "/v1/changes", StubGateway.json(body));

        assertThrows(GatewayException.class, () -> client.changes(null, 0));
    }

    @Test
    void changes_longPoll_mayTakeLongerThanTheRequestTimeout() {
        gateway.on("GET", "/v1/changes", StubGateway.changes("9", "1").after(900));

        assertEquals("9", client.changes("8", 1).orElseThrow().cursor());
    }

    @Test
    void changes_longPollHanging_endsAtWaitPlusRequestTimeout() {
        gateway.on("GET", "/v1/changes", StubGateway.changes("9").after(30_000));

        GatewayException e = assertThrows(GatewayException.class, () -> client.changes("8", 1));

        assertEquals("the gateway at " + gateway.url()
                + " did not answer GET /v1/changes?after=8&wait=1 within 1500 ms", e.getMessage());
    }

    @Test
    void changes_failing_neverOpensTheCircuitForLookups() {
        ComponentModel model = gateway.component();
        model.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, "1");
        gateway.on("GET", "/v1/changes", StubGateway.problem(503, "Service Unavailable", "down"));
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));
        try (GatewayClient guarded = new GatewayClient(GatewayConfig.from(model))) {
            for (int i = 0; i < 3; i++) {
                assertThrows(GatewayException.class, () -> guarded.changes("1", 1));
            }

            assertEquals(CircuitBreaker.State.CLOSED, guarded.breakerState(URI.create(gateway.url())));
            assertEquals("1", guarded.userById("1").orElseThrow().id());
        }
    }

    private static void assertNoSecret(Throwable e, String password) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String text = String.valueOf(t.getMessage());
            assertFalse(text.contains(StubGateway.TOKEN), text);
            if (password != null) {
                assertFalse(text.contains(password), text);
            }
        }
    }
}
