package org.userstoregateway.keycloak;

/**
 * The gateway could not give a usable answer: an unexpected status, a timeout,
 * an I/O or TLS error, a body that does not parse, or the circuit breaker
 * refusing the call. Messages name the request and the reason, never the API
 * token, a password or a private key.
 *
 * <p>The {@link Kind} tells the circuit breaker whether the failure says
 * something about the gateway's health, the client whether another gateway
 * may be tried, and the provider how loudly to log.
 */
public final class GatewayException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    enum Kind {
        /** Too slow, 5xx, 429 or a broken answer: counts against the gateway. */
        UNAVAILABLE,
        /**
         * No connection (refused, connect timeout, TLS handshake failed) or it broke
         * before an answer arrived: counts against the gateway like UNAVAILABLE. It
         * says this gateway is gone or out of reach rather than slow or failing the
         * request, so (every call being a read) another gateway may be asked instead.
         */
        CONNECTION,
        /** The gateway answered, but with a client error such as 401: it is up, our request or setup is wrong. */
        REJECTED,
        /** Nothing was sent (the caller was already interrupted, a body could not be encoded). */
        NOT_SENT,
        /** The circuit breaker refused the call without touching the network. */
        CIRCUIT_OPEN,
    }

    private final Kind kind;

    GatewayException(String message) {
        this(Kind.UNAVAILABLE, message, null);
    }

    GatewayException(String message, Throwable cause) {
        this(Kind.UNAVAILABLE, message, cause);
    }

    GatewayException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }

    /** A fast failure of an open circuit: expected while the gateway is down, so not worth a WARN per call. */
    boolean isCircuitOpen() {
        return kind == Kind.CIRCUIT_OPEN;
    }
}
