package org.userstoregateway.keycloak;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

/**
 * The gateways of one component, each with its own {@link CircuitBreaker}, and
 * the choice of which one a call goes to.
 *
 * <p>Calls are spread round-robin, each {@link Operation} in a turn of its own:
 * a login is a lookup followed by a password check, and with one shared turn
 * and two gateways every password check (the costly part) would land on the
 * same one. A call starts at the next gateway in its turn and
 * skips those whose breaker would refuse it right now, so a call fails fast
 * only when every circuit is open. A call that fails for want of a connection
 * ({@link GatewayException.Kind#CONNECTION}) goes once more to another gateway
 * that admits it; that failure still counts against the first gateway. Nothing
 * else is retried: a gateway that answered with an error, or too slowly, most
 * likely shares its trouble (the database) with the others, and asking them too
 * would only add load and make the caller wait longer. Every call is a read, so
 * sending one twice is harmless.
 *
 * <p>Thread-safe; the round-robin positions are the only shared state besides the breakers.
 */
final class GatewayEndpoints {

    /** The kinds of call, each spread over the gateways on its own. */
    enum Operation {
        LOOKUP, SEARCH, COUNT, VERIFY_PASSWORD, CHANGES
    }

    private static final Logger LOG = Logger.getLogger(GatewayEndpoints.class);

    private record Endpoint(URI url, CircuitBreaker breaker) {
    }

    private final List<Endpoint> endpoints;
    private final AtomicInteger[] next = new AtomicInteger[Operation.values().length];

    /** @param breakers makes the breaker of one gateway URL */
    GatewayEndpoints(List<URI> urls, Function<URI, CircuitBreaker> breakers) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("at least one gateway URL is needed");
        }
        this.endpoints = urls.stream().map(url -> new Endpoint(url, breakers.apply(url))).toList();
        for (int i = 0; i < next.length; i++) {
            next[i] = new AtomicInteger();
        }
    }

    /** The state of the breaker of {@code url}, one of the URLs this was made with. */
    CircuitBreaker.State state(URI url) {
        return endpoints.stream()
                .filter(endpoint -> endpoint.url().equals(url))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("not a gateway URL of this client: " + url))
                .breaker()
                .state();
    }

    /**
     * Runs {@code call} with the base URL of a gateway whose breaker admits it,
     * and on a connection failure once more with another such gateway.
     *
     * @param mayRetry asked before the second attempt; false once the caller was interrupted or the client closed
     * @throws GatewayException of kind {@link GatewayException.Kind#CIRCUIT_OPEN} if every circuit is open,
     *         or the failure of the last attempt
     */
    <T> T call(Operation operation, Function<URI, T> call, BooleanSupplier mayRetry) {
        int start = nextStart(operation);
        List<String> refusals = new ArrayList<>();
        for (int i = 0; i < endpoints.size(); i++) {
            int index = (start + i) % endpoints.size();
            Endpoint endpoint = endpoints.get(index);
            CircuitBreaker.Admission admission = endpoint.breaker().tryAdmit();
            if (admission.admitted()) {
                return callFrom(index, admission, call, mayRetry);
            }
            refusals.add(endpoints.size() == 1
                    ? "gateway at " + endpoint.url() + " unavailable, " + admission.refusal()
                    : endpoint.url() + ": " + admission.refusal());
        }
        String message = endpoints.size() == 1 ? refusals.get(0)
                : "all " + endpoints.size() + " gateways unavailable: " + String.join("; ", refusals);
        throw new GatewayException(GatewayException.Kind.CIRCUIT_OPEN, message, null);
    }

    /**
     * Runs {@code call} for the change feed, which bypasses the breakers (see
     * {@link GatewayClient#changes}): round-robin over the gateways whose circuit
     * is not open, or over all of them if every circuit is, and on a connection
     * failure once more with the next one in that order.
     */
    <T> T callBypassingBreakers(Function<URI, T> call, BooleanSupplier mayRetry) {
        int start = nextStart(Operation.CHANGES);
        List<Endpoint> order = new ArrayList<>(endpoints.size());
        List<Endpoint> open = new ArrayList<>();
        for (int i = 0; i < endpoints.size(); i++) {
            Endpoint endpoint = endpoints.get((start + i) % endpoints.size());
            (endpoint.breaker().state() == CircuitBreaker.State.OPEN ? open : order).add(endpoint);
        }
        order.addAll(open);
        Endpoint first = order.get(0);
        try {
            return call.apply(first.url());
        } catch (GatewayException e) {
            if (!retryable(e, mayRetry) || order.size() < 2) {
                throw e;
            }
            Endpoint other = order.get(1);
            T result = secondAttempt(e, () -> call.apply(other.url()));
            // The feed can poll many times a second; its own WARN covers a feed that is down.
            LOG.debugf("userstore-gateway %s: %s; asked %s instead", first.breaker().label(), e.getMessage(),
                    other.url());
            return result;
        }
    }

    private <T> T callFrom(int index, CircuitBreaker.Admission admission, Function<URI, T> call,
                           BooleanSupplier mayRetry) {
        Endpoint first = endpoints.get(index);
        try {
            return first.breaker().call(admission, () -> call.apply(first.url()));
        } catch (GatewayException e) {
            if (!retryable(e, mayRetry)) {
                throw e;
            }
            for (int i = 1; i < endpoints.size(); i++) {
                Endpoint other = endpoints.get((index + i) % endpoints.size());
                CircuitBreaker.Admission second = other.breaker().tryAdmit();
                if (second.admitted()) {
                    T result = secondAttempt(e,
                            () -> other.breaker().call(second, () -> call.apply(other.url())));
                    logFailover(first, other, e);
                    return result;
                }
            }
            throw e;
        }
    }

    private static boolean retryable(GatewayException e, BooleanSupplier mayRetry) {
        return e.kind() == GatewayException.Kind.CONNECTION && mayRetry.getAsBoolean();
    }

    /** The second and last attempt; if it fails too, the message tells both failures. */
    private static <T> T secondAttempt(GatewayException first, Supplier<T> attempt) {
        try {
            return attempt.get();
        } catch (GatewayException again) {
            GatewayException both = new GatewayException(again.kind(), again.getMessage()
                    + "; tried before on another gateway: " + first.getMessage(), again);
            both.addSuppressed(first);
            throw both;
        }
    }

    /**
     * WARN while the failed gateway's circuit is still closed: the call was saved,
     * so this line is the only trace of the failure. Once the circuit is open its
     * breaker has warned, and a failed probe per cool-down is not news.
     */
    private static void logFailover(Endpoint failed, Endpoint other, GatewayException e) {
        Logger.Level level = failed.breaker().state() == CircuitBreaker.State.CLOSED
                ? Logger.Level.WARN : Logger.Level.DEBUG;
        LOG.logf(level, "userstore-gateway %s: %s; %s answered instead", failed.breaker().label(), e.getMessage(),
                other.url());
    }

    private int nextStart(Operation operation) {
        return Math.floorMod(next[operation.ordinal()].getAndIncrement(), endpoints.size());
    }
}
