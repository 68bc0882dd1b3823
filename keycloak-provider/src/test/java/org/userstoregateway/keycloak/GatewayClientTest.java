package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

        assertEquals("gateway answered HTTP 500 to POST /v1/users/1/verify-password: Internal Server Error: error id 4711",
                e.getMessage());
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

        assertEquals("the gateway did not answer GET /v1/users/1 within 500 ms", e.getMessage());
        assertTrue(millis < 1_900, "gave up after " + millis + " ms");
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
