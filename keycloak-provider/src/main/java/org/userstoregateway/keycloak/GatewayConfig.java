package org.userstoregateway.keycloak;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;

/**
 * The provider's settings, parsed and checked once from the component config.
 *
 * <p>Validation messages are {@link java.text.MessageFormat} patterns with the
 * offending value as a parameter, because Keycloak's admin API formats them
 * that way; a raw value in the pattern could break on a quote or a brace.
 *
 * <p>{@code gatewayUrl} holds one base URL or several separated by commas
 * (gateways in front of the same database, which the client spreads its calls
 * over); each is checked on its own, and the list keeps the order given.
 *
 * <p>The PEM settings are only checked for shape here (which ones are set,
 * and only with https:// URLs); {@link GatewayTls#sslContext} reads them,
 * once per HTTP client and in {@code validateConfiguration}. They apply to
 * every URL. Blank PEM settings are {@code null}.
 */
public record GatewayConfig(List<URI> gatewayUrls, String apiToken, Duration connectTimeout, Duration requestTimeout,
                            int breakerFailureThreshold, Duration breakerCooldown,
                            String trustedCaPem, String clientCertificatePem, String clientKeyPem,
                            Duration maxStaleness, boolean changeFeed, boolean localPasswordsWithoutHash) {

    public static final String GATEWAY_URL = "gatewayUrl";
    public static final String API_TOKEN = "apiToken";
    public static final String CONNECT_TIMEOUT_MS = "connectTimeoutMs";
    public static final String REQUEST_TIMEOUT_MS = "requestTimeoutMs";
    public static final String BREAKER_FAILURE_THRESHOLD = "breakerFailureThreshold";
    public static final String BREAKER_COOLDOWN_MS = "breakerCooldownMs";
    public static final String TRUSTED_CA_PEM = "trustedCaPem";
    public static final String CLIENT_CERTIFICATE_PEM = "clientCertificatePem";
    public static final String CLIENT_KEY_PEM = "clientKeyPem";
    public static final String MAX_STALENESS_MS = "maxStalenessMs";
    public static final String CHANGE_FEED = "changeFeed";
    public static final String LOCAL_PASSWORDS_WITHOUT_HASH = "localPasswordsWithoutHash";

    public static final int DEFAULT_CONNECT_TIMEOUT_MS = 2000;
    /**
     * Below Keycloak's user storage timeout (3000 ms by default), which interrupts
     * lookups by username and email: a longer one would never apply to them.
     */
    public static final int DEFAULT_REQUEST_TIMEOUT_MS = 2500;
    public static final int DEFAULT_BREAKER_FAILURE_THRESHOLD = 5;
    public static final int DEFAULT_BREAKER_COOLDOWN_MS = 10000;
    public static final int DEFAULT_MAX_STALENESS_MS = 60000;
    /** Below a second the sweeper, which runs once a second, could not keep the promise. */
    public static final int MIN_MAX_STALENESS_MS = 1000;
    public static final boolean DEFAULT_CHANGE_FEED = true;
    /** Off: the database is the only place a password of its users can live, as before the setting existed. */
    public static final boolean DEFAULT_LOCAL_PASSWORDS_WITHOUT_HASH = false;

    public GatewayConfig {
        gatewayUrls = List.copyOf(gatewayUrls);
    }

    /**
     * Reads and validates the settings of a component.
     *
     * @throws ComponentValidationException naming the first setting that is missing or invalid
     */
    public static GatewayConfig from(ComponentModel model) {
        List<URI> urls = parseUrls(model.get(GATEWAY_URL));
        String token = model.get(API_TOKEN);
        if (token == null || token.isBlank()) {
            throw new ComponentValidationException("The API token (" + API_TOKEN + ") is required.");
        }
        Duration connect = parseTimeout(model.get(CONNECT_TIMEOUT_MS), CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS);
        Duration request = parseTimeout(model.get(REQUEST_TIMEOUT_MS), REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS);
        int threshold = (int) parseNumber(model.get(BREAKER_FAILURE_THRESHOLD), BREAKER_FAILURE_THRESHOLD,
                DEFAULT_BREAKER_FAILURE_THRESHOLD, 1, Integer.MAX_VALUE, "a whole number of 1 or more");
        Duration cooldown = parseTimeout(model.get(BREAKER_COOLDOWN_MS), BREAKER_COOLDOWN_MS,
                DEFAULT_BREAKER_COOLDOWN_MS);
        Duration maxStaleness = Duration.ofMillis(parseNumber(model.get(MAX_STALENESS_MS), MAX_STALENESS_MS,
                DEFAULT_MAX_STALENESS_MS, MIN_MAX_STALENESS_MS, Long.MAX_VALUE,
                "a whole number of milliseconds, " + MIN_MAX_STALENESS_MS + " or more"));
        boolean changeFeed = parseBoolean(model.get(CHANGE_FEED), CHANGE_FEED, DEFAULT_CHANGE_FEED);
        boolean localPasswords = parseBoolean(model.get(LOCAL_PASSWORDS_WITHOUT_HASH), LOCAL_PASSWORDS_WITHOUT_HASH,
                DEFAULT_LOCAL_PASSWORDS_WITHOUT_HASH);
        String trustedCa = Strings.stripToNull(model.get(TRUSTED_CA_PEM));
        String clientCertificate = Strings.stripToNull(model.get(CLIENT_CERTIFICATE_PEM));
        String clientKey = Strings.stripToNull(model.get(CLIENT_KEY_PEM));
        if ((clientCertificate == null) != (clientKey == null)) {
            String missing = clientCertificate == null ? CLIENT_CERTIFICATE_PEM : CLIENT_KEY_PEM;
            String present = clientCertificate == null ? CLIENT_KEY_PEM : CLIENT_CERTIFICATE_PEM;
            throw new ComponentValidationException("The settings " + CLIENT_CERTIFICATE_PEM + " and " + CLIENT_KEY_PEM
                    + " go together: " + present + " is set, " + missing + " is empty.");
        }
        boolean anyTls = trustedCa != null || clientCertificate != null;
        for (URI url : urls) {
            if (anyTls && !"https".equalsIgnoreCase(url.getScheme())) {
                throw new ComponentValidationException("The settings " + TRUSTED_CA_PEM + ", "
                        + CLIENT_CERTIFICATE_PEM + " and " + CLIENT_KEY_PEM
                        + " only apply to an https:// gateway URL; got: {0}", url.toString());
            }
        }
        return new GatewayConfig(urls, token.strip(), connect, request, threshold, cooldown, trustedCa,
                clientCertificate, clientKey, maxStaleness, changeFeed, localPasswords);
    }

    /**
     * Splits on commas; an empty entry is refused rather than skipped, as it is
     * most likely a URL lost while editing. Commas cannot be part of a URL here.
     */
    private static List<URI> parseUrls(String raw) {
        if (raw == null || raw.isBlank()) {
            throw new ComponentValidationException("The gateway URL (" + GATEWAY_URL + ") is required.");
        }
        String[] entries = raw.split(",", -1);
        List<URI> urls = new ArrayList<>(entries.length);
        for (int i = 0; i < entries.length; i++) {
            String entry = entries[i].strip();
            if (entry.isEmpty()) {
                throw new ComponentValidationException("The gateway URLs (" + GATEWAY_URL + ") are separated by"
                        + " commas, and entry {0} of {1} is empty; remove the extra comma.",
                        String.valueOf(i + 1), String.valueOf(entries.length));
            }
            URI url = parseUrl(entry);
            if (urls.contains(url)) {
                // Listed twice, a gateway would get twice the share and a retry could land on it again.
                throw new ComponentValidationException("The gateway URLs (" + GATEWAY_URL + ") list {0} more than"
                        + " once; give each gateway once.", url.toString());
            }
            urls.add(url);
        }
        return urls;
    }

    private static URI parseUrl(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw invalidUrl(value);
        }
        String scheme = Strings.lowerCase(uri.getScheme());
        if (!("http".equals(scheme) || "https".equals(scheme)) || uri.getHost() == null
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
        return Duration.ofMillis(parseNumber(raw, key, defaultMs, 1, Long.MAX_VALUE,
                "a positive whole number of milliseconds"));
    }

    private static long parseNumber(String raw, String key, long defaultValue, long min, long max, String expected) {
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        long value;
        try {
            value = Long.parseLong(raw.strip());
        } catch (NumberFormatException e) {
            value = Long.MIN_VALUE;
        }
        if (value < min || value > max) {
            throw new ComponentValidationException(
                    "The setting " + key + " must be " + expected + "; got: {0}", raw);
        }
        return value;
    }

    /** Keycloak's admin console stores a switch as "true" or "false". */
    private static boolean parseBoolean(String raw, String key, boolean defaultValue) {
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        String value = Strings.lowerCase(raw.strip());
        if (!value.equals("true") && !value.equals("false")) {
            throw new ComponentValidationException("The setting " + key + " must be true or false; got: {0}", raw);
        }
        return value.equals("true");
    }

    /** Leaves the token and the client key out, so the config can be logged. */
    @Override
    public String toString() {
        return "GatewayConfig[gatewayUrls=" + gatewayUrls
                + ", apiToken=" + (apiToken == null ? "(none)" : "(set)")
                + ", connectTimeoutMs=" + connectTimeout.toMillis()
                + ", requestTimeoutMs=" + requestTimeout.toMillis()
                + ", breakerFailureThreshold=" + breakerFailureThreshold
                + ", breakerCooldownMs=" + breakerCooldown.toMillis()
                + ", trustedCaPem=" + (trustedCaPem == null ? "(none)" : "(set)")
                + ", clientCertificatePem=" + (clientCertificatePem == null ? "(none)" : "(set)")
                + ", clientKeyPem=" + (clientKeyPem == null ? "(none)" : "(set)")
                + ", maxStalenessMs=" + maxStaleness.toMillis()
                + ", changeFeed=" + changeFeed
                + ", localPasswordsWithoutHash=" + localPasswordsWithoutHash + "]";
    }
}
