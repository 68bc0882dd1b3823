package org.userstoregateway.keycloak;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

/**
 * Talks to the gateway's read-only HTTP API. One instance per component
 * configuration, shared by all sessions; thread-safe.
 *
 * <p>Every answer other than 200 (and 404 for lookups), a timeout, an I/O or
 * TLS error or a body that does not parse becomes a {@link GatewayException}.
 * Neither the API token nor a password ever appears in a message or a log line.
 *
 * <p>Each call is bounded: the request timeout covers the whole exchange,
 * connection, headers and body, and a caller that is interrupted (Keycloak
 * interrupts slow storage lookups) stops waiting at once, with its interrupt
 * flag set again.
 *
 * <p>With several gateway URLs, one JDK HTTP client serves them all and
 * {@link GatewayEndpoints} picks the gateway for each call: round-robin over
 * those whose {@link CircuitBreaker} lets calls through, so while a gateway is
 * down calls fail fast (or go elsewhere) instead of waiting out the timeout,
 * and once more on another gateway after a connection failure. The change
 * feed's long-poll ({@link #changes}) bypasses the breakers, see there.
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
    private final GatewayEndpoints endpoints;
    /** The largest page the gateway ever returned: a proven lower bound of its page cap. */
    private final AtomicInteger largestPageSeen = new AtomicInteger();
    /** Calls waiting for an answer, so {@link #close()} can end them at once. */
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    record UserList(List<GatewayUser> users) {
    }

    record Count(Integer count) {
    }

    record Verdict(Boolean valid) {
    }

    /**
     * One answer of {@code GET /v1/changes}: the position to ask from next, the
     * database ids of users that changed after the position asked from, whether
     * the role catalogue changed, and whether the gateway could not tell what
     * changed (the position was too old), so that every cached user is suspect.
     */
    record Changes(String cursor, List<String> changes, boolean rolesChanged, boolean resync) {

        Changes {
            changes = changes == null ? List.of()
                    : changes.stream().filter(id -> id != null && !id.isEmpty()).distinct().toList();
        }
    }

    /** A client whose log lines name each gateway by its URL alone. */
    public GatewayClient(GatewayConfig config) {
        this(config, url -> breaker(config, url.toString()));
    }

    /**
     * @param componentName names the component in log lines, next to the URL of the gateway concerned
     * @throws org.keycloak.component.ComponentValidationException if the TLS settings cannot be used
     */
    public GatewayClient(GatewayConfig config, String componentName) {
        this(config, url -> breaker(config, "'" + componentName + "' (" + url + ")"));
    }

    /** @param breakers makes the breaker of each gateway URL (tests give them a clock of their own) */
    GatewayClient(GatewayConfig config, Function<URI, CircuitBreaker> breakers) {
        this.config = config;
        this.endpoints = new GatewayEndpoints(config.gatewayUrls(), breakers);
        // The JDK client runs its selector on a daemon thread, so nothing here can keep the
        // JVM (and Keycloak's shutdown) waiting. Its work on an answer (headers, a body of a
        // few hundred bytes into an array) runs on that thread too, not on the default
        // executor's pool: handing every answer to a pool thread and from there to the
        // waiting caller cost a third of a millisecond of CPU per call (issue 15).
        HttpClient.Builder builder = HttpClient.newBuilder()
                .executor(Runnable::run)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        GatewayTls.sslContext(config).ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    private static CircuitBreaker breaker(GatewayConfig config, String label) {
        return new CircuitBreaker(label, config.breakerFailureThreshold(), config.breakerCooldown());
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
        return guarded(GatewayEndpoints.Operation.SEARCH, base -> {
            UserList list = read(get(base, path), base, path, UserList.class);
            List<GatewayUser> users = list.users() == null ? List.of() : list.users();
            for (GatewayUser user : users) {
                requireComplete(user, base, path);
            }
            largestPageSeen.accumulateAndGet(users.size(), Math::max);
            return users;
        });
    }

    public int countUsers(String search) {
        String path = "/v1/users/count?search=" + queryValue(search);
        return guarded(GatewayEndpoints.Operation.COUNT, base -> {
            Count count = read(get(base, path), base, path, Count.class);
            if (count.count() == null || count.count() < 0) {
                throw new GatewayException("gateway at " + base + " sent no usable count for GET " + path);
            }
            return count.count();
        });
    }

    public boolean verifyPassword(String id, String password) {
        String path = "/v1/users/" + pathSegment(id) + "/verify-password";
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(Map.of("password", password));
        } catch (JsonProcessingException e) {
            // Not expected for a map of strings; the cause is left out since it could quote the value.
            throw new GatewayException(GatewayException.Kind.NOT_SENT,
                    "could not encode the request body for POST " + path, null);
        }
        return guarded(GatewayEndpoints.Operation.VERIFY_PASSWORD, base -> {
            HttpRequest request = request(base, path, config.requestTimeout())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            Verdict verdict = read(send(base, request, "POST", path), base, path, Verdict.class);
            if (verdict.valid() == null) {
                throw new GatewayException("gateway at " + base + " sent no verdict for POST " + path);
            }
            return verdict.valid();
        });
    }

    /**
     * One answer of the change feed. Without {@code after}: at once, the current
     * position to start following from. With it: waits up to {@code waitSeconds}
     * (the gateway may cap that) for changes after that position; the request
     * timeout counts on top of the wait. Empty if the gateway has no change feed
     * (404: none configured, or a gateway from before the feed).
     *
     * <p>Bypasses the circuit breakers on purpose: a failing or hanging long-poll
     * says little about lookups, and must not make logins fail fast. It still
     * prefers gateways whose circuit is not open, and asks another gateway once
     * after a connection failure: the position is one in the database's shared
     * change log, so every gateway understands it.
     */
    public Optional<Changes> changes(String after, int waitSeconds) {
        String path = after == null ? "/v1/changes"
                : "/v1/changes?after=" + queryValue(after) + "&wait=" + waitSeconds;
        Duration timeout = after == null ? config.requestTimeout()
                : config.requestTimeout().plusSeconds(waitSeconds);
        return endpoints.callBypassingBreakers(base -> {
            HttpResponse<byte[]> response = send(base, request(base, path, timeout).GET().build(), "GET", path);
            if (response.statusCode() == 404) {
                return Optional.empty();
            }
            Changes changes = read(response, base, path, Changes.class);
            if (changes.cursor() == null || changes.cursor().isBlank()) {
                throw new GatewayException("gateway at " + base + " sent no cursor for GET " + path);
            }
            return Optional.of(changes);
        }, this::mayRetry);
    }

    /**
     * The largest number of users one search page has held so far. A page shorter
     * than asked ends a listing for sure only if the ask was within this bound.
     */
    int largestPageSeen() {
        return largestPageSeen.get();
    }

    /** The state of the circuit breaker of the gateway at {@code url}, for tests and diagnostics. */
    CircuitBreaker.State breakerState(URI url) {
        return endpoints.state(url);
    }

    /**
     * Ends calls still waiting (they fail with a {@link GatewayException.Kind#NOT_SENT}
     * exception), refuses new ones and drops the connections, without waiting
     * for anything. On Java 21 and later the connections go with
     * {@code HttpClient.shutdownNow()} (looked up by reflection, as this code is
     * built for Java 17; {@code HttpClient.close()} would wait for running
     * calls); on Java 17 the client's threads are daemons that end once it is
     * unreachable.
     */
    @Override
    public void close() {
        closed = true;
        inFlight.forEach(call -> call.cancel(true));
        try {
            Method shutdownNow = HttpClient.class.getMethod("shutdownNow");
            shutdownNow.invoke(http);
        } catch (NoSuchMethodException e) {
            // Java 17
        } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
            LOG.debugf("closing the HTTP client for %s failed: %s", config.gatewayUrls(), e);
        }
    }

    /** Runs {@code call} with the base URL of the gateway chosen for it, see {@link GatewayEndpoints#call}. */
    private <T> T guarded(GatewayEndpoints.Operation operation, Function<URI, T> call) {
        return endpoints.call(operation, call, this::mayRetry);
    }

    /** A second attempt makes no sense for a caller that was told to stop, or after {@link #close}. */
    private boolean mayRetry() {
        return !closed && !Thread.currentThread().isInterrupted();
    }

    private Optional<GatewayUser> lookup(String path) {
        return guarded(GatewayEndpoints.Operation.LOOKUP, base -> {
            HttpResponse<byte[]> response = get(base, path);
            if (response.statusCode() == 404) {
                return Optional.empty();
            }
            return Optional.of(requireComplete(read(response, base, path, GatewayUser.class), base, path));
        });
    }

    private HttpResponse<byte[]> get(URI base, String path) {
        return send(base, request(base, path, config.requestTimeout()).GET().build(), "GET", path);
    }

    private HttpRequest.Builder request(URI base, String path, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .timeout(timeout)
                .header("Authorization", "Bearer " + config.apiToken())
                .header("Accept", "application/json, application/problem+json")
                .header("User-Agent", USER_AGENT);
    }

    /**
     * Sends and waits at most the request's timeout for the complete answer. The
     * JDK's own request timeout stops at the response headers; waiting on the
     * future bounds the body as well.
     */
    private HttpResponse<byte[]> send(URI base, HttpRequest request, String method, String path) {
        String what = method + " " + path;
        Duration timeout = request.timeout().orElse(config.requestTimeout());
        if (Thread.currentThread().isInterrupted()) {
            throw new GatewayException(GatewayException.Kind.NOT_SENT,
                    "the calling thread was interrupted before " + what + " was sent", null);
        }
        if (closed) {
            throw closedFor(base, what, null);
        }
        CompletableFuture<HttpResponse<byte[]>> pending =
                http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        inFlight.add(pending);
        try {
            HttpResponse<byte[]> response = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            LOG.debugf("gateway at %s answered %s with %d", base, what, response.statusCode());
            return response;
        } catch (TimeoutException e) {
            pending.cancel(true);
            throw new GatewayException("the gateway at " + base + " did not answer " + what + " within "
                    + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw new GatewayException("interrupted while waiting for the gateway to answer " + what, e);
        } catch (CancellationException e) {
            throw closedFor(base, what, e);
        } catch (ExecutionException e) {
            if (closed) {
                throw closedFor(base, what, e.getCause());
            }
            throw failure(e.getCause() == null ? e : e.getCause(), base, what, timeout);
        } finally {
            inFlight.remove(pending);
        }
    }

    private static GatewayException closedFor(URI base, String what, Throwable cause) {
        return new GatewayException(GatewayException.Kind.NOT_SENT, "the HTTP client for the gateway at "
                + base + " is closed (Keycloak is stopping); " + what + " ended unanswered", cause);
    }

    /**
     * Turns what the JDK threw into a message for the admin, and tells a missing
     * or broken connection (which another gateway may make up for) from a
     * gateway that is there but too slow or failing.
     */
    private GatewayException failure(Throwable cause, URI base, String what, Duration timeout) {
        GatewayException.Kind connection = GatewayException.Kind.CONNECTION;
        if (cause instanceof HttpConnectTimeoutException) {
            return new GatewayException(connection, "could not connect to the gateway at " + base
                    + " within " + config.connectTimeout().toMillis() + " ms (" + what + ")", cause);
        }
        if (cause instanceof HttpTimeoutException) {
            return new GatewayException("the gateway at " + base + " did not answer " + what + " within "
                    + timeout.toMillis() + " ms", cause);
        }
        String tls = GatewayTls.explain(cause, config, base);
        if (tls != null) {
            return new GatewayException(connection, tls + "; " + what + " at " + base, cause);
        }
        if (cause instanceof ConnectException) {
            return new GatewayException(connection, "could not connect to the gateway at " + base
                    + " (" + what + "): " + describe(cause), cause);
        }
        if (cause instanceof IOException) {
            // Reset, EOF, "received no bytes": the connection broke before the answer was complete.
            return new GatewayException(connection, "I/O error on " + what + " at " + base + ": "
                    + describe(cause), cause);
        }
        return new GatewayException("unexpected error on " + what + " at " + base + ": "
                + describe(cause), cause);
    }

    private static <T> T read(HttpResponse<byte[]> response, URI base, String path, Class<T> type) {
        String what = response.request().method() + " " + path;
        int status = response.statusCode();
        if (status != 200) {
            String hint = status == 401 || status == 403 ? " (check the API token)" : "";
            // 5xx and 429 say the gateway is in trouble; other statuses say it is up and refuses this request.
            GatewayException.Kind kind = status >= 500 || status == 429
                    ? GatewayException.Kind.UNAVAILABLE : GatewayException.Kind.REJECTED;
            throw new GatewayException(kind, "gateway at " + base + " answered HTTP " + status + " to " + what
                    + hint + problemDetail(response.body()), null);
        }
        try {
            T value = JSON.readValue(response.body(), type);
            if (value == null) {
                throw new GatewayException("gateway at " + base + " sent an empty JSON body for " + what);
            }
            return value;
        } catch (IOException e) {
            // Jackson's message may quote the body; the location is enough to find the problem.
            throw new GatewayException("gateway at " + base + " sent a body that is not the expected JSON for "
                    + what + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static GatewayUser requireComplete(GatewayUser user, URI base, String path) {
        if (user == null || !user.isComplete()) {
            throw new GatewayException("gateway at " + base + " sent a user without id or username for " + path);
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
    private static String describe(Throwable e) {
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
