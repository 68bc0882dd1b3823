package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.keycloak.models.UserModel;

class UserSearchTest {

    private static final GatewayUser MAX = new GatewayUser("1", "mmustermann", "M.Mustermann@example.test", "Max",
            "Mustermann", true, false, null, Map.of(), List.of(), Map.of(), true);
    private static final GatewayUser ERIKA = new GatewayUser("2", "emusterfrau", null, "Erika", "Musterfrau", false,
            true, null, Map.of(), List.of(), Map.of(), true);

    private static Map<String, String> params(String... keyValues) {
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            params.put(keyValues[i], keyValues[i + 1]);
        }
        return params;
    }

    @Test
    void of_adminSearch_goesToTheGatewayAsItIs() {
        UserSearch search = UserSearch.of(params(UserModel.SEARCH, "  \"Max*\" ", UserModel.INCLUDE_SERVICE_ACCOUNT, "false"));

        assertEquals("\"Max*\"", search.gatewaySearch());
        assertTrue(search.pagesOnGateway());
        assertFalse(search.matchesNobody());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "*"})
    void of_emptySearch_meansEveryone(String value) {
        assertEquals("*", UserSearch.of(params(UserModel.SEARCH, value)).gatewaySearch());
    }

    @Test
    void of_noCriteria_meansEveryonePagedOnTheGateway() {
        UserSearch search = UserSearch.of(params(UserModel.INCLUDE_SERVICE_ACCOUNT, "true"));

        assertEquals("*", search.gatewaySearch());
        assertTrue(search.pagesOnGateway());
    }

    @Test
    void of_usernameNotExact_narrowsWithWildcardsAndChecksSubstring() {
        UserSearch search = UserSearch.of(params(UserModel.USERNAME, "MUSTER"));

        assertEquals("*MUSTER*", search.gatewaySearch());
        assertFalse(search.pagesOnGateway());
        assertTrue(search.accepts(MAX));
        assertTrue(search.accepts(ERIKA));
    }

    @Test
    void of_emailExact_quotesAndChecksEqualityIgnoringCase() {
        UserSearch search = UserSearch.of(params(UserModel.EMAIL, "m.mustermann@EXAMPLE.test", UserModel.EXACT, "true"));

        assertEquals("\"m.mustermann@EXAMPLE.test\"", search.gatewaySearch());
        assertTrue(search.accepts(MAX));
        assertFalse(search.accepts(ERIKA));
    }

    @Test
    void of_severalFields_usesUsernameForTheGatewayAndChecksAll() {
        UserSearch search = UserSearch.of(params(UserModel.FIRST_NAME, "max", UserModel.USERNAME, "muster",
                UserModel.LAST_NAME, "mann"));

        assertEquals("*muster*", search.gatewaySearch());
        assertTrue(search.accepts(MAX));
        assertFalse(search.accepts(ERIKA));
    }

    @Test
    void of_enabledAndEmailVerifiedFlags_areCheckedHere() {
        UserSearch enabled = UserSearch.of(params(UserModel.SEARCH, "muster", UserModel.ENABLED, "true"));
        UserSearch verified = UserSearch.of(params(UserModel.EMAIL_VERIFIED, "true"));

        assertEquals("muster", enabled.gatewaySearch());
        assertFalse(enabled.pagesOnGateway());
        assertTrue(enabled.accepts(MAX));
        assertFalse(enabled.accepts(ERIKA));
        assertFalse(verified.accepts(MAX));
        assertTrue(verified.accepts(ERIKA));
    }

    @Test
    void of_identityProviderOrCustomAttribute_matchesNobody() {
        assertTrue(UserSearch.of(params(UserModel.IDP_ALIAS, "github")).matchesNobody());
        assertTrue(UserSearch.of(params(UserModel.IDP_USER_ID, "123")).matchesNobody());
        assertTrue(UserSearch.of(params("phone", "+49", UserModel.EXACT, "true")).matchesNobody());
    }
}
