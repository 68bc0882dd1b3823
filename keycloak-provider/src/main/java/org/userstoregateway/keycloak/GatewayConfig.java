package org.userstoregateway.keycloak;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;

import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;

/**
 * The provider's settings, parsed and checked once from the component config.
 *
 * <p>Validation messages are {@link java.text.MessageFormat} patterns with the
 * offending value as a parameter, because Keycloak's admin API formats them
 * that way; a raw value in the pattern could break on a quote or a brace.
 */
public record GatewayConfig(URI gatewayUrl, String apiToken, Duration connectTimeout, Duration requestTimeout) {

    public static final String GATEWAY_URL = "gatewayUrl";
    public static final String API_TOKEN = "apiToken";
    public static final String CONNECT_TIMEOUT_MS = "connectTimeoutMs";
    public static final String REQUEST_TIMEOUT_MS = "requestTimeoutMs";

    public static final int DEFAULT_CONNECT_TIMEOUT_MS = 2000;
    public static final int DEFAULT_REQUEST_TIMEOUT_MS = 5000;

    /**
     * Reads and validates the settings of a component.
     *
     * @throws ComponentValidationException naming the first setting that is missing or invalid
     */
    public static GatewayConfig from(ComponentModel model) {
        URI url = parseUrl(model.get(GATEWAY_URL));
        String token = model.get(API_TOKEN);
        if (token == null || token.isBlank()) {
            throw new ComponentValidationException("The API token (" + API_TOKEN + ") is required.");
        }
        Duration connect = parseTimeout(model.get(CONNECT_TIMEOUT_MS), CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS);
        Duration request = parseTimeout(model.get(REQUEST_TIMEOUT_MS), REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS);
        return new GatewayConfig(url, token.strip(), connect, request);
    }

    private static URI parseUrl(String raw) {
        if (raw == null || raw.isBlank()) {
            throw new ComponentValidationException("The gateway URL (" + GATEWAY_URL + ") is required.");
        }
        String value = raw.strip();
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw invalidUrl(value);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
                || uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw invalidUrl(value);
        }
        // The API paths are appended to the base, so a trailing slash would double up.
        String base = value.replaceAll("/+$", "");
        return URI.create(base);
    }

    private static ComponentValidationException invalidUrl(String value) {
        return new ComponentValidationException(
                "The gateway URL (" + GATEWAY_URL + ") must be an absolute http:// or https:// URL"
                        + " without credentials, query or fragment, such as http://gateway.internal:8080; got: {0}",
                value);
    }

    private static Duration parseTimeout(String raw, String key, int defaultMs) {
        if (raw == null || raw.isBlank()) {
            return Duration.ofMillis(defaultMs);
        }
        long ms;
        try {
            ms = Long.parseLong(raw.strip());
        } catch (NumberFormatException e) {
            ms = -1;
        }
        if (ms <= 0) {
            throw new ComponentValidationException(
                    "The setting " + key + " must be a positive whole number of milliseconds; got: {0}", raw);
        }
        return Duration.ofMillis(ms);
    }

    /** Leaves the token out, so the config can be logged. */
    @Override
    public String toString() {
        return "GatewayConfig[gatewayUrl=" + gatewayUrl
                + ", apiToken=" + (apiToken == null ? "(none)" : "(set)")
                + ", connectTimeoutMs=" + connectTimeout.toMillis()
                + ", requestTimeoutMs=" + requestTimeout.toMillis() + "]";
    }
}
