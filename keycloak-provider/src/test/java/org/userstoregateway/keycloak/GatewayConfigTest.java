package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.text.MessageFormat;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;

class GatewayConfigTest {

    private static ComponentModel model(String url, String token, String connectMs, String requestMs) {
        ComponentModel model = new ComponentModel();
        model.setId("c1");
        if (url != null) {
            model.getConfig().putSingle(GatewayConfig.GATEWAY_URL, url);
        }
        if (token != null) {
            model.getConfig().putSingle(GatewayConfig.API_TOKEN, token);
        }
        if (connectMs != null) {
            model.getConfig().putSingle(GatewayConfig.CONNECT_TIMEOUT_MS, connectMs);
        }
        if (requestMs != null) {
            model.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, requestMs);
        }
        return model;
    }

    /** The message as Keycloak's admin API shows it. */
    private static String shown(ComponentValidationException e) {
        return MessageFormat.format(e.getMessage(), e.getParameters());
    }

    @Test
    void from_completeSettings_parsesEveryField() {
        GatewayConfig config = GatewayConfig.from(model("https://gw.example.test:8443/base", "tok", "1500", "7000"));

        assertEquals(List.of(URI.create("https://gw.example.test:8443/base")), config.gatewayUrls());
        assertEquals("tok", config.apiToken());
        assertEquals(Duration.ofMillis(1500), config.connectTimeout());
        assertEquals(Duration.ofMillis(7000), config.requestTimeout());
    }

    @Test
    void from_timeoutsLeftOut_usesDefaults() {
        GatewayConfig config = GatewayConfig.from(model("http://gw:8080", "tok", null, " "));

        assertEquals(Duration.ofMillis(2000), config.connectTimeout());
        assertEquals(Duration.ofMillis(2500), config.requestTimeout());
    }

    @Test
    void from_urlWithTrailingSlashes_dropsThem() {
        GatewayConfig config = GatewayConfig.from(model(" http://gw:8080/prefix// ", "tok", null, null));

        assertEquals(List.of(URI.create("http://gw:8080/prefix")), config.gatewayUrls());
    }

    @Test
    void from_missingUrl_namesTheSetting() {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model(null, "tok", null, null)));

        assertEquals("The gateway URL (gatewayUrl) is required.", shown(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gw:8080", "ftp://gw/", "http://", "not a url", "http://gw:8080/?x=1", "http://u:p@gw/",
        "file:///etc/passwd", "http://gw/{a}'b"})
    void from_urlNotHttpOrHttps_isRejectedShowingTheValue(String url) {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model(url, "tok", null, null)));

        String shown = shown(e);
        assertTrue(shown.startsWith("The gateway URL (gatewayUrl) must be an absolute http:// or https:// URL"), shown);
        assertTrue(shown.endsWith("got: " + url), shown);
    }

    @Test
    void from_severalUrls_keepsTheirOrderAndTrimsEach() {
        GatewayConfig config = GatewayConfig.from(model(" http://gw2:8080/ ,http://gw1:8080,  https://gw3 ", "tok",
                null, null));

        assertEquals(List.of(URI.create("http://gw2:8080"), URI.create("http://gw1:8080"), URI.create("https://gw3")),
                config.gatewayUrls());
    }

    @Test
    void gatewayUrls_list_cannotBeChanged() {
        GatewayConfig config = GatewayConfig.from(model("http://gw1,http://gw2", "tok", null, null));

        assertThrows(UnsupportedOperationException.class, () -> config.gatewayUrls().add(URI.create("http://x")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "http://gw1,,http://gw2|2|3",
        "http://gw1,|2|2",
        ",http://gw1|1|2",
        "http://gw1, ,http://gw2|2|3",
        "' , '|1|2",
    })
    void from_emptyEntryInTheList_isRejectedNamingItsPosition(String urls, String position, String count) {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model(urls, "tok", null, null)));

        assertEquals("The gateway URLs (gatewayUrl) are separated by commas, and entry " + position + " of " + count
                + " is empty; remove the extra comma.", shown(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://gw1:8080,http://gw1:8080", "http://gw1:8080, http://GW1:8080/",
        "http://a, http://gw1:8080/, http://gw1:8080//"})
    void from_sameUrlTwice_isRejectedNamingIt(String urls) {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model(urls, "tok", null, null)));

        String shown = shown(e);
        assertTrue(shown.startsWith("The gateway URLs (gatewayUrl) list http://"), shown);
        assertTrue(shown.toLowerCase(Locale.ROOT).contains("gw1:8080 more than once"), shown);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://gw2", "gw2:8080", "http://gw2/?x=1", "http://u:p@gw2", "http://gw2/{a}'b"})
    void from_oneBadUrlInTheList_isRejectedShowingThatEntry(String bad) {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model("http://gw1:8080, " + bad + " ,http://gw3", "tok", null, null)));

        String shown = shown(e);
        assertTrue(shown.startsWith("The gateway URL (gatewayUrl) must be an absolute http:// or https:// URL"), shown);
        assertTrue(shown.endsWith("got: " + bad), shown);
    }

    @Test
    void from_tlsSettingsWithOneHttpUrlInTheList_isRejectedNamingIt() {
        ComponentModel model = model("https://gw1, http://gw2", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.TRUSTED_CA_PEM, "-----BEGIN CERTIFICATE-----");

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model));

        assertTrue(shown(e).endsWith("only apply to an https:// gateway URL; got: http://gw2"), shown(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void from_missingToken_isRejected(String token) {
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model("http://gw", token, null, null)));

        assertEquals("The API token (apiToken) is required.", shown(e));
        assertThrows(ComponentValidationException.class, () -> GatewayConfig.from(model("http://gw", null, null, null)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5", "abc", "1.5", "99999999999999999999"})
    void from_timeoutNotAPositiveNumber_isRejectedNamingTheSetting(String value) {
        ComponentValidationException connect = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model("http://gw", "tok", value, null)));
        ComponentValidationException request = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model("http://gw", "tok", null, value)));

        assertEquals("The setting connectTimeoutMs must be a positive whole number of milliseconds; got: " + value,
                shown(connect));
        assertEquals("The setting requestTimeoutMs must be a positive whole number of milliseconds; got: " + value,
                shown(request));
    }

    @Test
    void from_breakerSettingsLeftOut_usesDefaults() {
        GatewayConfig config = GatewayConfig.from(model("http://gw", "tok", null, null));

        assertEquals(5, config.breakerFailureThreshold());
        assertEquals(Duration.ofMillis(10000), config.breakerCooldown());
        assertNull(config.trustedCaPem());
        assertNull(config.clientCertificatePem());
        assertNull(config.clientKeyPem());
    }

    @Test
    void from_breakerSettings_areParsed() {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, " 1 ");
        model.getConfig().putSingle(GatewayConfig.BREAKER_COOLDOWN_MS, "2500");

        GatewayConfig config = GatewayConfig.from(model);

        assertEquals(1, config.breakerFailureThreshold());
        assertEquals(Duration.ofMillis(2500), config.breakerCooldown());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "two", "3000000000"})
    void from_breakerThresholdNotAPositiveInt_isRejected(String value) {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, value);

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model));

        assertEquals("The setting breakerFailureThreshold must be a whole number of 1 or more; got: " + value,
                shown(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-10", "10s"})
    void from_breakerCooldownNotPositive_isRejected(String value) {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.BREAKER_COOLDOWN_MS, value);

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model));

        assertEquals("The setting breakerCooldownMs must be a positive whole number of milliseconds; got: " + value,
                shown(e));
    }

    @Test
    void from_stalenessAndFeedLeftOut_useDefaults() {
        GatewayConfig config = GatewayConfig.from(model("http://gw", "tok", null, null));

        assertEquals(Duration.ofMillis(60000), config.maxStaleness());
        assertTrue(config.changeFeed());
    }

    @Test
    void from_stalenessAndFeed_areParsed() {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.MAX_STALENESS_MS, " 1000 ");
        model.getConfig().putSingle(GatewayConfig.CHANGE_FEED, "FALSE ");

        GatewayConfig config = GatewayConfig.from(model);

        assertEquals(Duration.ofSeconds(1), config.maxStaleness());
        assertFalse(config.changeFeed());
    }

    @ParameterizedTest
    @ValueSource(strings = {"999", "0", "-1", "60s", "{0}'"})
    void from_maxStalenessBelowOneSecondOrNotANumber_isRejected(String value) {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.MAX_STALENESS_MS, value);

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model));

        assertEquals("The setting maxStalenessMs must be a whole number of milliseconds, 1000 or more; got: " + value,
                shown(e));
    }

    @Test
    void from_localPasswordsLeftOut_isOff() {
        assertFalse(GatewayConfig.from(model("http://gw", "tok", null, null)).localPasswordsWithoutHash());
    }

    @Test
    void from_localPasswordsTrue_isOn() {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.LOCAL_PASSWORDS_WITHOUT_HASH, " True");

        GatewayConfig config = GatewayConfig.from(model);

        assertTrue(config.localPasswordsWithoutHash());
        assertTrue(config.toString().contains("localPasswordsWithoutHash=true"), config.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "1"})
    void from_localPasswordsNotTrueOrFalse_isRejected(String value) {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.LOCAL_PASSWORDS_WITHOUT_HASH, value);

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model));

        assertEquals("The setting localPasswordsWithoutHash must be true or false; got: " + value, shown(e));
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "1", "on"})
    void from_changeFeedNotTrueOrFalse_isRejected(String value) {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.CHANGE_FEED, value);

        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> GatewayConfig.from(model));

        assertEquals("The setting changeFeed must be true or false; got: " + value, shown(e));
    }

    @Test
    void from_blankPemSettings_countAsUnset() {
        ComponentModel model = model("http://gw", "tok", null, null);
        model.getConfig().putSingle(GatewayConfig.TRUSTED_CA_PEM, " \n ");
        model.getConfig().putSingle(GatewayConfig.CLIENT_CERTIFICATE_PEM, "");
        model.getConfig().putSingle(GatewayConfig.CLIENT_KEY_PEM, "\t");

        GatewayConfig config = GatewayConfig.from(model);

        assertNull(config.trustedCaPem());
        assertNull(config.clientCertificatePem());
        assertNull(config.clientKeyPem());
    }

    @Test
    void toString_withToken_neverShowsIt() {
        GatewayConfig config = GatewayConfig.from(model("http://gw:8080", "super-secret-token", null, null));

        String text = config.toString();

        assertFalse(text.contains("super-secret-token"), text);
        assertTrue(text.contains("http://gw:8080") && text.contains("apiToken=(set)"), text);
        assertTrue(text.contains("maxStalenessMs=60000, changeFeed=true"), text);
    }

    @Test
    void toString_severalUrls_listsThemAndNeverTheToken() {
        GatewayConfig config = GatewayConfig.from(model("http://gw1:8080, http://gw2:8080", "super-secret-token",
                null, null));

        String text = config.toString();

        assertTrue(text.startsWith("GatewayConfig[gatewayUrls=[http://gw1:8080, http://gw2:8080], apiToken=(set)"),
                text);
        assertFalse(text.contains("super-secret-token"), text);
    }

    @Test
    void equals_sameSettings_isEqualAndDifferentTokenIsNot() {
        GatewayConfig a = GatewayConfig.from(model("http://gw", "one", null, null));
        GatewayConfig b = GatewayConfig.from(model("http://gw/", "one", null, null));
        GatewayConfig c = GatewayConfig.from(model("http://gw", "two", null, null));

        assertEquals(a, b);
        assertFalse(a.equals(c));
    }
}
