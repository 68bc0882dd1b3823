package org.userstoregateway.keycloak;

/**
 * The gateway could not give a usable answer: an unexpected status, a timeout,
 * an I/O error or a body that does not parse. Messages name the request and
 * the reason, never the API token or a password.
 */
public final class GatewayException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    GatewayException(String message) {
        super(message);
    }

    GatewayException(String message, Throwable cause) {
        super(message, cause);
    }
}
