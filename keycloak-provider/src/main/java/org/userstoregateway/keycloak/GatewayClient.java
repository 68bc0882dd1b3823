package org.userstoregateway.keycloak;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

/**
 * Talks to the gateway's read-only HTTP API. One instance per component
 * configuration, shared by all sessions; thread-safe.
 *
 * <p>Every answer other than 200 (and 404 for lookups), a timeout, an I/O
 * error or a body that does not parse becomes a {@link GatewayException}.
 * Neither the API token nor a password ever appears in a message or a log line.
 */
public final class GatewayClient implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(GatewayClient.class);

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private static final String USER_AGENT = "userstore-gateway-keycloak";
    private static final int MAX_DETAIL_CHARS = 200;
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final GatewayConfig config;
    private final HttpClient http;
    /** The largest page the gateway ever returned: a proven lower bound of its page cap. */
    private final AtomicInteger largestPageSeen = new AtomicInteger();

    record UserList(List<GatewayUser> users) {
    }

    record Count(Integer count) {
    }

    record Verdict(Boolean valid) {
    }

    public GatewayClient(GatewayConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public GatewayConfig config() {
        return config;
    }

    public Optional<GatewayUser> userById(String id) {
        return lookup("/v1/users/" + pathSegment(id));
    }

    public Optional<GatewayUser> userByUsername(String username) {
        return lookup("/v1/users/by-username/" + pathSegment(username));
    }

    public Optional<GatewayUser> userByEmail(String email) {
        return lookup("/v1/users/by-email/" + pathSegment(email));
    }

    /** One page of a search, ordered by username. The gateway may return fewer than {@code max}. */
    public List<GatewayUser> searchUsers(String search, int first, int max) {
        String path = "/v1/users?search=" + queryValue(search) + "&first=" + first + "&max=" + max;
        UserList list = read(get(path), path, UserList.class);
        List<GatewayUser> users = list.users() == null ? List.of() : list.users();
        for (GatewayUser user : users) {
            requireComplete(user, path);
        }
        largestPageSeen.accumulateAndGet(users.size(), Math::max);
        return users;
    }

    public int countUsers(String search) {
        String path = "/v1/users/count?search=" + queryValue(search);
        Count count = read(get(path), path, Count.class);
        if (count.count() == null || count.count() < 0) {
            throw new GatewayException("gateway sent no usable count for GET " + path);
        }
        return count.count();
    }

    public boolean verifyPassword(String id, String password) {
        String path = "/v1/users/" + pathSegment(id) + "/verify-password";
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(Map.of("password", password));
        } catch (JsonProcessingException e) {
            // Not expected for a map of strings; the cause is left out since it could quote the value.
            throw new GatewayException("could not encode the request body for POST " + path);
        }
        HttpRequest request = request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        Verdict verdict = read(send(request, "POST", path), path, Verdict.class);
        if (verdict.valid() == null) {
            throw new GatewayException("gateway sent no verdict for POST " + path);
        }
        return verdict.valid();
    }

    /**
     * The largest number of users one search page has held so far. A page shorter
     * than asked ends a listing for sure only if the ask was within this bound.
     */
    int largestPageSeen() {
        return largestPageSeen.get();
    }

    /** Releases the connection pool on runtimes where {@link HttpClient} can be closed (Java 21+). */
    @Override
    public void close() {
        if (http instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.debugf("closing the HTTP client for %s failed: %s", config.gatewayUrl(), e);
            }
        }
    }

    private Optional<GatewayUser> lookup(String path) {
        HttpResponse<byte[]> response = get(path);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        return Optional.of(requireComplete(read(response, path, GatewayUser.class), path));
    }

    private HttpResponse<byte[]> get(String path) {
        return send(request(path).GET().build(), "GET", path);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(config.gatewayUrl() + path))
                .timeout(config.requestTimeout())
                .header("Authorization", "Bearer " + config.apiToken())
                .header("Accept", "application/json, application/problem+json")
                .header("User-Agent", USER_AGENT);
    }

    private HttpResponse<byte[]> send(HttpRequest request, String method, String path) {
        String what = method + " " + path;
        try {
            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            LOG.debugf("gateway %s answered %d", what, response.statusCode());
            return response;
        } catch (HttpConnectTimeoutException e) {
            throw new GatewayException("could not connect to the gateway at " + config.gatewayUrl()
                    + " within " + config.connectTimeout().toMillis() + " ms (" + what + ")", e);
        } catch (HttpTimeoutException e) {
            throw new GatewayException("the gateway did not answer " + what + " within "
                    + config.requestTimeout().toMillis() + " ms", e);
        } catch (ConnectException e) {
            throw new GatewayException("could not connect to the gateway at " + config.gatewayUrl()
                    + " (" + what + "): " + describe(e), e);
        } catch (IOException e) {
            throw new GatewayException("I/O error on " + what + " at " + config.gatewayUrl() + ": " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GatewayException("interrupted while waiting for the gateway (" + what + ")", e);
        }
    }

    private static <T> T read(HttpResponse<byte[]> response, String path, Class<T> type) {
        String what = response.request().method() + " " + path;
        int status = response.statusCode();
        if (status != 200) {
            String hint = status == 401 || status == 403 ? " (check the API token)" : "";
            throw new GatewayException("gateway answered HTTP " + status + " to " + what + hint
                    + problemDetail(response.body()));
        }
        try {
            T value = JSON.readValue(response.body(), type);
            if (value == null) {
                throw new GatewayException("gateway sent an empty JSON body for " + what);
            }
            return value;
        } catch (IOException e) {
            // Jackson's message may quote the body; the location is enough to find the problem.
            throw new GatewayException("gateway sent a body that is not the expected JSON for " + what
                    + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static GatewayUser requireComplete(GatewayUser user, String path) {
        if (user == null || !user.isComplete()) {
            throw new GatewayException("gateway sent a user without id or username for " + path);
        }
        return user;
    }

    /** Title and detail of an RFC 9457 problem body, shortened; nothing for other bodies. */
    private static String problemDetail(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        try {
            JsonNode problem = JSON.readTree(body);
            if (problem == null || !problem.isObject()) {
                return "";
            }
            StringBuilder text = new StringBuilder();
            for (String field : new String[] {"title", "detail"}) {
                JsonNode node = problem.get(field);
                if (node != null && node.isTextual() && !node.asText().isBlank()) {
                    text.append(text.length() == 0 ? "" : ": ").append(node.asText().strip());
                }
            }
            if (text.length() > MAX_DETAIL_CHARS) {
                text.setLength(MAX_DETAIL_CHARS);
                text.append('…');
            }
            return text.length() == 0 ? "" : ": " + text;
        } catch (IOException e) {
            return "";
        }
    }

    /** The exception's type and the first message along its causes (the JDK often leaves the outer one empty). */
    private static String describe(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return e.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        return e.getClass().getSimpleName();
    }

    /**
     * Percent-encodes one path segment: everything but RFC 3986 unreserved
     * characters, so {@code @ + / %} and spaces cannot change the route.
     * A segment of dots only is encoded fully, so it cannot climb the path.
     */
    static String pathSegment(String value) {
        if (!value.isEmpty() && value.chars().allMatch(c -> c == '.')) {
            return "%2E".repeat(value.length());
        }
        return percentEncode(value);
    }

    /** Percent-encodes a query parameter value the same strict way ({@code +} and {@code &} included). */
    static String queryValue(String value) {
        return percentEncode(value == null ? "" : value);
    }

    private static String percentEncode(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length * 3);
        for (byte b : bytes) {
            int c = b & 0xFF;
            boolean unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~';
            if (unreserved) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0x0F]);
            }
        }
        return out.toString();
    }
}
