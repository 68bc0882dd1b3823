package org.userstoregateway.keycloak;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import org.keycloak.component.ComponentModel;

/**
 * An in-JVM stand-in for the gateway on a free loopback port. Each test
 * scripts the routes it needs; anything else answers 404 like the real one.
 * Every request is recorded with its raw (still percent-encoded) path.
 *
 * <p>{@link #stop} plays a gateway process that dies: the port is closed, and
 * requests under way lose their connection. {@link #restart} brings it back on
 * the same port with the same routes.
 */
final class StubGateway implements AutoCloseable {

    static final String TOKEN = "stub-token-5e3cr3t";

    static {
        // Without it the JDK's server sends headers and body in separate small segments and waits for the
        // client's delayed ACK between them: some 40 ms per request, which adds up in tests making many calls.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    record Request(String method, String rawPath, String rawQuery, String authorization, String contentType,
                   String body) {
    }

    /**
     * What the stub answers: after {@code delayMillis}, the status and headers;
     * then, if {@code bodyStallMillis} is set, half the body, a pause of that
     * long, and the rest.
     */
    record Reply(int status, String contentType, String body, long delayMillis, long bodyStallMillis) {

        Reply(int status, String contentType, String body, long delayMillis) {
            this(status, contentType, body, delayMillis, 0);
        }

        Reply after(long millis) {
            return new Reply(status, contentType, body, millis, bodyStallMillis);
        }

        Reply stallingBodyFor(long millis) {
            return new Reply(status, contentType, body, delayMillis, millis);
        }
    }

    @FunctionalInterface
    interface Handler {
        Reply handle(Request request);
    }

    /**
     * The {@code /v1/changes} route, answering from a script: each request gets
     * the next reply the test offers, and waits for it if none is there yet (a
     * long-poll held open) until the stub closes. Tests wait for the next
     * request to know the subscriber has dealt with the previous answer.
     */
    static final class Feed implements Handler {

        private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        private final BlockingQueue<Request> received = new LinkedBlockingQueue<>();

        Feed then(Reply reply) {
            replies.add(reply);
            return this;
        }

        /** The next request the subscriber sent, waiting a few seconds at most for it. */
        Request nextRequest() throws InterruptedException {
            Request request = received.poll(5, TimeUnit.SECONDS);
            if (request == null) {
                throw new AssertionError("no request to /v1/changes within 5 s");
            }
            return request;
        }

        /** The {@code after} parameter of the next request, or null for a request of the head. */
        String nextAfter() throws InterruptedException {
            return query(nextRequest().rawQuery()).get("after");
        }

        @Override
        public Reply handle(Request request) {
            received.add(request);
            try {
                Reply reply = replies.poll(60, TimeUnit.SECONDS);
                return reply != null ? reply : problem(503, "Service Unavailable", "the test offered no answer");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return problem(503, "Service Unavailable", "stub stopping");
            }
        }
    }

    private final SSLContext tls;
    private final boolean needClientAuth;
    private final Map<String, Handler> routes = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final String url;
    private HttpServer server;
    private ExecutorService executor;

    StubGateway() {
        this(null, false);
    }

    /**
     * An HTTPS stub presenting the certificate of {@code tls}; with
     * {@code needClientAuth} it refuses clients without a certificate it trusts.
     */
    StubGateway(SSLContext tls, boolean needClientAuth) {
        this.tls = tls;
        this.needClientAuth = needClientAuth;
        listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        String scheme = tls == null ? "http://" : "https://";
        url = scheme + server.getAddress().getHostString() + ":" + server.getAddress().getPort();
    }

    private synchronized void listen(InetSocketAddress address) {
        try {
            if (tls == null) {
                server = HttpServer.create(address, 0);
            } else {
                HttpsServer https = HttpsServer.create(address, 0);
                https.setHttpsConfigurator(new HttpsConfigurator(tls) {
                    @Override
                    public void configure(HttpsParameters params) {
                        SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
                        parameters.setNeedClientAuth(needClientAuth);
                        params.setSSLParameters(parameters);
                    }
                });
                server = https;
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/", this::serve);
        server.start();
    }

    /** Closes the port and drops every connection, requests under way included. */
    synchronized void stop() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
        }
    }

    /** Listens again on the same port, with the routes and the request log it had. */
    synchronized void restart() {
        if (server == null) {
            URI address = URI.create(url);
            listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), address.getPort()));
        }
    }

    static Reply json(String body) {
        return new Reply(200, "application/json", body, 0);
    }

    static Reply problem(int status, String title, String detail) {
        String body = "{\"type\":\"about:blank\",\"title\":\"" + title + "\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\"}";
        return new Reply(status, "application/problem+json", body, 0);
    }

    /** A change-feed answer listing {@code ids} as changed. */
    static Reply changes(String cursor, String... ids) {
        return changes(cursor, false, false, ids);
    }

    static Reply changes(String cursor, boolean rolesChanged, boolean resync, String... ids) {
        StringBuilder list = new StringBuilder();
        for (String id : ids) {
            list.append(list.length() == 0 ? "" : ",").append('"').append(id).append('"');
        }
        return json("{\"cursor\":\"" + cursor + "\",\"changes\":[" + list + "],\"rolesChanged\":" + rolesChanged
                + ",\"resync\":" + resync + "}");
    }

    static Reply notFound() {
        return problem(404, "Not Found", "no such user");
    }

    /**
     * The search route of a gateway holding {@code total} numbered users and
     * capping pages at {@code cap}, as the real one does.
     */
    static Handler pagedUsers(int total, int cap) {
        return request -> {
            Map<String, String> query = query(request.rawQuery());
            int first = Integer.parseInt(query.getOrDefault("first", "0"));
            int max = Math.min(Integer.parseInt(query.getOrDefault("max", String.valueOf(cap))), cap);
            int from = Math.min(first, total);
            int to = (int) Math.min(total, (long) first + max);
            return json(TestUsers.userList(from, to));
        };
    }

    /** Decoded query parameters (the client never encodes a space as '+', so decoding '+' is moot). */
    static Map<String, String> query(String rawQuery) {
        Map<String, String> params = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return params;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            params.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
        return params;
    }

    /** Answers {@code method rawPath} (path without query, as sent on the wire). */
    StubGateway on(String method, String rawPath, Handler handler) {
        routes.put(method + " " + rawPath, handler);
        return this;
    }

    StubGateway on(String method, String rawPath, Reply reply) {
        return on(method, rawPath, request -> reply);
    }

    String url() {
        return url;
    }

    /** A component configured for this stub, with a short request timeout so timeouts test fast. */
    ComponentModel component() {
        ComponentModel model = new ComponentModel();
        model.setId("component-1");
        model.setName("test-gateway");
        model.setProviderId(GatewayStorageProviderFactory.PROVIDER_ID);
        model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, url());
        model.getConfig().putSingle(GatewayConfig.API_TOKEN, TOKEN);
        model.getConfig().putSingle(GatewayConfig.CONNECT_TIMEOUT_MS, "1000");
        model.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, "500");
        return model;
    }

    GatewayClient client() {
        return new GatewayClient(GatewayConfig.from(component()));
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    Request lastRequest() {
        return requests.get(requests.size() - 1);
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            Request request = new Request(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath(),
                    exchange.getRequestURI().getRawQuery(),
                    exchange.getRequestHeaders().getFirst("Authorization"),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            requests.add(request);
            Handler handler = routes.get(request.method() + " " + request.rawPath());
            Reply reply = handler == null ? notFound() : handler.handle(request);
            if (reply.delayMillis() > 0) {
                Thread.sleep(reply.delayMillis());
            }
            byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", reply.contentType());
            exchange.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    int half = reply.bodyStallMillis() > 0 ? body.length / 2 : body.length;
                    out.write(body, 0, half);
                    out.flush();
                    if (reply.bodyStallMillis() > 0) {
                        Thread.sleep(reply.bodyStallMillis());
                    }
                    out.write(body, half, body.length - half);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The client gave up (a timeout test); nothing to answer.
        }
    }

    @Override
    public void close() {
        stop();
    }
}
