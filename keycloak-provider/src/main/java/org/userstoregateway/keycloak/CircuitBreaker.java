package org.userstoregateway.keycloak;

import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

/**
 * Stops calling a gateway that keeps failing, so Keycloak's threads do not
 * wait out a timeout on every login while it is down.
 *
 * <ul>
 * <li><b>Closed</b> (normal): every call goes through. A call that fails with
 * {@link GatewayException.Kind#UNAVAILABLE} or
 * {@link GatewayException.Kind#CONNECTION} (or any unexpected exception) adds
 * one to a counter, anything else resets it. At the threshold the circuit
 * opens.</li>
 * <li><b>Open</b>: every call fails at once with a
 * {@link GatewayException.Kind#CIRCUIT_OPEN} exception, without touching the
 * network, until the cool-down has passed.</li>
 * <li><b>Half-open</b>: the first call after the cool-down is let through as
 * the one probe; the others keep failing fast. If the probe succeeds the
 * circuit closes, if it fails the circuit opens for another cool-down.</li>
 * </ul>
 *
 * <p>Logs one WARN when the circuit opens and one INFO when it closes again,
 * never one per call. One instance per gateway URL of a {@link GatewayClient};
 * thread-safe. The lock is held only to change state, never during a call.
 */
final class CircuitBreaker {

    private static final Logger LOG = Logger.getLogger(CircuitBreaker.class);

    /** The ticket of the probe call; ordinary calls get the generation they started in. */
    private static final long PROBE = -1;

    enum State {
        CLOSED, OPEN, HALF_OPEN
    }

    private final String label;
    private final int failureThreshold;
    private final long cooldownNanos;
    private final LongSupplier nanoClock;

    // Guarded by this.
    private State state = State.CLOSED;
    private int consecutiveFailures;
    /** Counts closings, so late results of calls from before an outage do not count in the next closed period. */
    private long generation;
    private long openedAt;
    private long probeAllowedAt;

    /**
     * @param label names the gateway in log lines, e.g. the component name and URL
     */
    CircuitBreaker(String label, int failureThreshold, Duration cooldown) {
        this(label, failureThreshold, cooldown, System::nanoTime);
    }

    CircuitBreaker(String label, int failureThreshold, Duration cooldown, LongSupplier nanoClock) {
        if (failureThreshold < 1 || cooldown.isNegative() || cooldown.isZero()) {
            throw new IllegalArgumentException("threshold must be >= 1 and cool-down > 0");
        }
        this.label = label;
        this.failureThreshold = failureThreshold;
        this.cooldownNanos = cooldown.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * The answer of {@link #tryAdmit}: the ticket to book the call's outcome
     * with, or the reason it may not go through now. An admitted call must be
     * run with {@link #call(Admission, Supplier)} of the same breaker, since
     * after the cool-down the admission is the one probe.
     */
    record Admission(long ticket, String refusal) {

        boolean admitted() {
            return refusal == null;
        }
    }

    /** Runs {@code call} unless the circuit is open, and books its outcome. */
    <T> T call(Supplier<T> call) {
        Admission admission = tryAdmit();
        if (!admission.admitted()) {
            throw new GatewayException(GatewayException.Kind.CIRCUIT_OPEN,
                    "gateway unavailable, " + admission.refusal(), null);
        }
        return call(admission, call);
    }

    /** Runs a call {@link #tryAdmit} admitted, and books its outcome. */
    <T> T call(Admission admission, Supplier<T> call) {
        if (!admission.admitted()) {
            throw new IllegalArgumentException("the call was not admitted: " + admission.refusal());
        }
        long ticket = admission.ticket();
        T result;
        try {
            result = call.get();
        } catch (GatewayException e) {
            switch (e.kind()) {
                case UNAVAILABLE, CONNECTION -> failed(ticket, e.getMessage());
                case REJECTED -> succeeded(ticket);
                default -> abandoned(ticket);
            }
            throw e;
        } catch (RuntimeException | Error e) {
            failed(ticket, e.toString());
            throw e;
        }
        succeeded(ticket);
        return result;
    }

    synchronized State state() {
        return state;
    }

    String label() {
        return label;
    }

    /**
     * Admits every call while closed; while open, the first call after the
     * cool-down as the probe (the circuit turns half-open); nothing else. The
     * refusal says why, e.g. "circuit open, next probe in 3 s".
     */
    synchronized Admission tryAdmit() {
        switch (state) {
            case CLOSED:
                return new Admission(generation, null);
            case OPEN:
                long now = nanoClock.getAsLong();
                long wait = probeAllowedAt - now;
                if (wait <= 0) {
                    state = State.HALF_OPEN;
                    return new Admission(PROBE, null);
                }
                long seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
                return new Admission(0, "circuit open, next probe in " + seconds + " s");
            default:
                return new Admission(0, "circuit open, a probe call is under way");
        }
    }

    private void succeeded(long ticket) {
        long outageSeconds;
        synchronized (this) {
            if (ticket != PROBE) {
                if (state == State.CLOSED && ticket == generation) {
                    consecutiveFailures = 0;
                }
                return;
            }
            state = State.CLOSED;
            consecutiveFailures = 0;
            generation++;
            outageSeconds = Math.max(0, (nanoClock.getAsLong() - openedAt) / 1_000_000_000L);
        }
        LOG.infof("userstore-gateway %s: the gateway answered the probe call, circuit closed after %d s of"
                + " failing fast; calls go through again", label, outageSeconds);
    }

    private void failed(long ticket, String reason) {
        synchronized (this) {
            long now = nanoClock.getAsLong();
            if (ticket == PROBE) {
                state = State.OPEN;
                probeAllowedAt = now + cooldownNanos;
                LOG.debugf("userstore-gateway %s: the probe call failed, the circuit stays open for another %d ms: %s",
                        label, cooldownNanos / 1_000_000L, reason);
                return;
            }
            if (state != State.CLOSED || ticket != generation) {
                return; // a late result from before the circuit opened
            }
            consecutiveFailures++;
            if (consecutiveFailures < failureThreshold) {
                return;
            }
            state = State.OPEN;
            openedAt = now;
            probeAllowedAt = now + cooldownNanos;
        }
        LOG.warnf("userstore-gateway %s: %d calls in a row failed (the last: %s); circuit open: calls fail at once"
                + " without asking the gateway, and every %d ms one probe call checks whether it is back",
                label, failureThreshold, reason, cooldownNanos / 1_000_000L);
    }

    /** The call ended without a verdict on the gateway (nothing was sent); a probe slot goes to the next caller. */
    private synchronized void abandoned(long ticket) {
        if (ticket == PROBE && state == State.HALF_OPEN) {
            state = State.OPEN;
            probeAllowedAt = nanoClock.getAsLong();
        }
    }
}
