package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.keycloak.component.ComponentModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.storage.ReadOnlyException;

class GatewayUserAdapterTest {

    private static final GatewayUser MAX = new GatewayUser("1", "MMustermann", "M.Mustermann@Example.test", "Max",
            "Mustermann", true, false, 1700000000000L, Map.of("phone", List.of("+49 30 1234567")),
            List.of("testrole", "ghost"), Map.of("testclient", List.of("admin", "phantom"), "gone", List.of("admin")), true);

    private final Fakes.Realm realm = new Fakes.Realm("test");
    private final Fakes.FederatedStorage storage = new Fakes.FederatedStorage();
    private final ComponentModel component = new ComponentModel();
    private final AtomicLong now = new AtomicLong();
    private final List<String> warnings = new ArrayList<>();
    private final MissingRoleWarnings missingRoles = new MissingRoleWarnings(Duration.ofMinutes(10), now::get, warnings::add);

    GatewayUserAdapterTest() {
        component.setId("comp-1");
    }

    private GatewayUserAdapter adapter(GatewayUser user) {
        return new GatewayUserAdapter(Fakes.session(storage), realm.model, component, user, missingRoles);
    }

    @Test
    void getters_databaseUser_exposeItsFieldsWithLowerCaseUsernameAndEmail() {
        GatewayUserAdapter user = adapter(MAX);

        assertEquals("f:comp-1:1", user.getId());
        assertEquals("comp-1", user.getFederationLink());
        assertEquals("mmustermann", user.getUsername());
        assertEquals("m.mustermann@example.test", user.getEmail());
        assertEquals("Max", user.getFirstName());
        assertEquals("Mustermann", user.getLastName());
        assertTrue(user.isEnabled());
        assertFalse(user.isEmailVerified());
        assertEquals(1700000000000L, user.getCreatedTimestamp());
    }

    @Test
    void attributes_databaseAndKeycloakSide_areMergedWithTheDatabaseWinning() {
        storage.attributesOf("f:comp-1:1").putSingle("locale", "de");
        storage.attributesOf("f:comp-1:1").putSingle("phone", "stale copy");
        GatewayUserAdapter user = adapter(MAX);

        Map<String, List<String>> attributes = user.getAttributes();

        assertEquals(List.of("mmustermann"), attributes.get(UserModel.USERNAME));
        assertEquals(List.of("m.mustermann@example.test"), attributes.get(UserModel.EMAIL));
        assertEquals(List.of("Max"), attributes.get(UserModel.FIRST_NAME));
        assertEquals(List.of("Mustermann"), attributes.get(UserModel.LAST_NAME));
        assertEquals(List.of("+49 30 1234567"), attributes.get("phone"));
        assertEquals(List.of("de"), attributes.get("locale"));
        assertEquals("+49 30 1234567", user.getFirstAttribute("phone"));
        assertEquals("Max", user.getFirstAttribute(UserModel.FIRST_NAME));
        assertEquals("de", user.getFirstAttribute("locale"));
        assertEquals(List.of("mmustermann"), user.getAttributeStream(UserModel.USERNAME).toList());
        assertEquals(List.of("+49 30 1234567"), user.getAttributeStream("phone").toList());
        assertEquals(List.of(), user.getAttributeStream("missing").toList());
    }

    @Test
    void attributes_userWithoutOptionalFields_reportsNoValues() {
        GatewayUserAdapter user = adapter(new GatewayUser("7", "nobody", null, null, null, null, null, null, null,
                null, null, null));

        assertNull(user.getEmail());
        assertNull(user.getFirstAttribute(UserModel.FIRST_NAME));
        assertEquals(List.of(), user.getAttributeStream(UserModel.LAST_NAME).toList());
        assertTrue(user.isEnabled());
        assertNull(user.getCreatedTimestamp());
    }

    static Stream<Arguments> unchangedWrites() {
        return Stream.of(
                Arguments.of("username in other case", (Consumer<UserModel>) u -> u.setUsername("mMUSTERmann")),
                Arguments.of("email in other case", (Consumer<UserModel>) u -> u.setEmail("m.mustermann@example.TEST")),
                Arguments.of("first name", (Consumer<UserModel>) u -> u.setFirstName("Max")),
                Arguments.of("last name", (Consumer<UserModel>) u -> u.setLastName("Mustermann")),
                Arguments.of("enabled", (Consumer<UserModel>) u -> u.setEnabled(true)),
                Arguments.of("email verified", (Consumer<UserModel>) u -> u.setEmailVerified(false)),
                Arguments.of("created", (Consumer<UserModel>) u -> u.setCreatedTimestamp(1700000000000L)),
                Arguments.of("single attribute", (Consumer<UserModel>) u -> u.setSingleAttribute(UserModel.FIRST_NAME, "Max")),
                Arguments.of("username attribute", (Consumer<UserModel>) u -> u.setAttribute(UserModel.USERNAME, List.of("mmustermann"))),
                Arguments.of("database attribute", (Consumer<UserModel>) u -> u.setAttribute("phone", List.of("+49 30 1234567"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unchangedWrites")
    void setters_sameValue_doNothing(String what, Consumer<UserModel> write) {
        GatewayUserAdapter user = adapter(MAX);

        assertDoesNotThrow(() -> write.accept(user));
        assertTrue(storage.attributes.isEmpty(), "nothing may reach federated storage");
    }

    @Test
    void setters_emptyForAMissingValue_doNothing() {
        GatewayUserAdapter user = adapter(new GatewayUser("7", "nobody", null, null, null, null, null, null, null,
                null, null, null));

        assertDoesNotThrow(() -> user.setFirstName(""));
        assertDoesNotThrow(() -> user.setEmail(null));
        assertDoesNotThrow(() -> user.setLastName("  "));
        assertDoesNotThrow(() -> user.setCreatedTimestamp(null));
    }

    static Stream<Arguments> realChanges() {
        return Stream.of(
                Arguments.of("username", (Consumer<UserModel>) u -> u.setUsername("max")),
                Arguments.of("email", (Consumer<UserModel>) u -> u.setEmail("max@example.test")),
                Arguments.of("email", (Consumer<UserModel>) u -> u.setEmail(null)),
                Arguments.of("firstName", (Consumer<UserModel>) u -> u.setFirstName("Maximilian")),
                Arguments.of("lastName", (Consumer<UserModel>) u -> u.setLastName(null)),
                Arguments.of("emailVerified", (Consumer<UserModel>) u -> u.setEmailVerified(true)),
                Arguments.of("createdTimestamp", (Consumer<UserModel>) u -> u.setCreatedTimestamp(1L)),
                Arguments.of("firstName", (Consumer<UserModel>) u -> u.setSingleAttribute(UserModel.FIRST_NAME, "Moritz")),
                Arguments.of("lastName", (Consumer<UserModel>) u -> u.removeAttribute(UserModel.LAST_NAME)),
                Arguments.of("phone", (Consumer<UserModel>) u -> u.setAttribute("phone", List.of("+1 555"))),
                Arguments.of("phone", (Consumer<UserModel>) u -> u.removeAttribute("phone")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realChanges")
    void setters_differentValue_throwReadOnlyNamingTheField(String field, Consumer<UserModel> write) {
        GatewayUserAdapter user = adapter(MAX);

        ReadOnlyException e = assertThrows(ReadOnlyException.class, () -> write.accept(user));

        assertEquals("The field '" + field + "' of user 'mmustermann' comes from the user database and is read-only"
                + " in Keycloak.", e.getMessage());
        assertTrue(storage.attributes.isEmpty(), "nothing may reach federated storage");
    }

    // Enabled: database flag AND no disable on the Keycloak side

    private static final GatewayUser DISABLED_IN_DATABASE = new GatewayUser("2", "erika", null, "Erika", null, false,
            false, null, Map.of(), List.of(), Map.of(), true);

    @Test
    void setEnabledFalse_enabledInTheDatabase_disablesInKeycloakOnly() {
        GatewayUserAdapter user = adapter(MAX);

        user.setEnabled(false);

        assertFalse(user.isEnabled());
        assertEquals(Map.of("ENABLED", List.of("false")), Map.copyOf(storage.attributesOf("f:comp-1:1")));
        assertFalse(adapter(MAX).isEnabled(), "a later session sees the disable too");
    }

    @Test
    void setEnabledTrue_disabledInKeycloak_liftsTheDisable() {
        storage.attributesOf("f:comp-1:1").putSingle("ENABLED", "false");
        GatewayUserAdapter user = adapter(MAX);
        assertFalse(user.isEnabled());

        user.setEnabled(true);

        assertTrue(user.isEnabled());
        assertTrue(storage.attributesOf("f:comp-1:1").isEmpty());
        assertTrue(adapter(MAX).isEnabled());
    }

    @Test
    void setEnabledTrue_disabledInTheDatabase_throwsReadOnlyNamingTheField() {
        GatewayUserAdapter user = adapter(DISABLED_IN_DATABASE);

        ReadOnlyException e = assertThrows(ReadOnlyException.class, () -> user.setEnabled(true));

        assertTrue(e.getMessage().startsWith("The field 'enabled' of user 'erika' comes from the user database and is"
                + " read-only in Keycloak"), e.getMessage());
        assertFalse(user.isEnabled());
        assertTrue(storage.attributes.isEmpty(), "nothing may reach federated storage");
    }

    @Test
    void setEnabledFalse_disabledInTheDatabase_changesNothing() {
        GatewayUserAdapter user = adapter(DISABLED_IN_DATABASE);

        user.setEnabled(false);

        assertFalse(user.isEnabled());
        assertTrue(storage.attributes.isEmpty(), "an unchanged form field must not become a Keycloak-side disable");
    }

    @Test
    void bruteForcePermanentLockout_disablesInKeycloakAndAdminUnlockEnablesAgain() {
        // What DefaultBruteForceProtector (Keycloak 26.5) does on permanent lockout, then what an admin's
        // "enable" does through UserResource: setEnabled(true) and cleanUpPermanentLockout.
        GatewayUserAdapter user = adapter(MAX);

        user.setEnabled(false);
        user.setSingleAttribute(UserModel.DISABLED_REASON, "permanentLockout");
        GatewayUserAdapter nextSession = adapter(MAX);

        assertFalse(nextSession.isEnabled());
        assertEquals("permanentLockout", nextSession.getFirstAttribute(UserModel.DISABLED_REASON));

        nextSession.setEnabled(true);
        nextSession.removeAttribute(UserModel.DISABLED_REASON);

        assertTrue(adapter(MAX).isEnabled());
        assertTrue(storage.attributesOf("f:comp-1:1").isEmpty());
    }

    @Test
    void keycloakDisable_isHiddenFromAttributesAndNotWritableAsOne() {
        storage.attributesOf("f:comp-1:1").putSingle("ENABLED", "false");
        GatewayUserAdapter user = adapter(MAX);

        assertFalse(user.getAttributes().containsKey("ENABLED"));
        assertNull(user.getFirstAttribute("ENABLED"));
        assertEquals(List.of(), user.getAttributeStream("ENABLED").toList());
        assertThrows(ReadOnlyException.class, () -> user.setSingleAttribute("ENABLED", "true"));
        assertThrows(ReadOnlyException.class, () -> user.setAttribute("ENABLED", List.of("true")));
        assertThrows(ReadOnlyException.class, () -> user.removeAttribute("ENABLED"));
        assertFalse(user.isEnabled());
    }

    @Test
    void keycloakOnlyAttributes_setAndRemove_goToFederatedStorage() {
        GatewayUserAdapter user = adapter(MAX);

        user.setSingleAttribute("locale", "de");
        user.setAttribute("kc.note", List.of("a", "b"));
        user.removeAttribute("locale");

        assertEquals(Map.of("kc.note", List.of("a", "b")), Map.copyOf(storage.attributesOf("f:comp-1:1")));
    }

    @Test
    void roleMappings_databaseRolesByName_areMergedWithKeycloakGrantsAndDefaults() {
        RoleModel testrole = realm.addRole("testrole");
        RoleModel granted = realm.addRole("granted-in-keycloak");
        RoleModel offline = realm.addDefaultRole("offline_access");
        ClientModel testclient = realm.addClient("testclient", "admin", "viewer");
        RoleModel admin = testclient.getRole("admin");
        storage.grantsOf("f:comp-1:1").add(granted);
        GatewayUserAdapter user = adapter(MAX);

        assertEquals(Set.of(testrole, granted, offline, admin), user.getRoleMappingsStream().collect(Collectors.toSet()));
        assertEquals(Set.of(testrole, granted, offline), user.getRealmRoleMappingsStream().collect(Collectors.toSet()));
        assertEquals(Set.of(admin), user.getClientRoleMappingsStream(testclient).collect(Collectors.toSet()));
        assertTrue(user.hasRole(testrole));
        assertTrue(user.hasRole(admin));
        assertTrue(user.hasDirectRole(admin));
        assertFalse(user.hasRole(testclient.getRole("viewer")));
    }

    @Test
    void roleMappings_missingRoleOrClient_areSkippedWithOneWarningEach() {
        realm.addRole("testrole");
        realm.addClient("testclient", "admin");

        GatewayUserAdapter user = adapter(MAX);
        List<String> names = user.getRoleMappingsStream().map(RoleModel::getName).sorted().toList();
        user.hasRole(realm.roles.get("testrole"));
        adapter(MAX).getRoleMappingsStream().count();

        assertEquals(List.of("admin", "testrole"), names);
        assertEquals(3, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("realm role 'ghost'") && warnings.get(0).contains("'mmustermann'"));
        assertTrue(warnings.stream().anyMatch(w -> w.contains("role 'phantom' of client 'testclient'")));
        assertTrue(warnings.stream().anyMatch(w -> w.contains("role 'admin' of client 'gone'")));

        now.addAndGet(Duration.ofMinutes(10).toMillis());
        adapter(MAX).getRoleMappingsStream().count();
        assertEquals(6, warnings.size());
    }

    @Test
    void deleteRoleMapping_roleFromTheDatabase_throwsReadOnly() {
        RoleModel testrole = realm.addRole("testrole");
        GatewayUserAdapter user = adapter(MAX);

        ReadOnlyException e = assertThrows(ReadOnlyException.class, () -> user.deleteRoleMapping(testrole));

        assertTrue(e.getMessage().contains("'testrole'") && e.getMessage().contains("user database"), e.getMessage());
    }

    @Test
    void grantAndDeleteRoleMapping_keycloakOnlyRole_useFederatedStorage() {
        RoleModel extra = realm.addRole("extra");
        GatewayUserAdapter user = adapter(MAX);

        user.grantRole(extra);
        assertTrue(user.hasRole(extra));
        user.deleteRoleMapping(extra);

        assertFalse(user.hasRole(extra));
        assertTrue(storage.grantsOf("f:comp-1:1").isEmpty());
    }

    @Test
    void federatedAttributes_areReadOncePerSession_andAgainAfterTheAdapterWritesThem() {
        storage.attributesOf("f:comp-1:1").putSingle("locale", "de");
        GatewayUserAdapter user = adapter(MAX);

        assertTrue(user.isEnabled());
        assertEquals("de", user.getFirstAttribute("locale"));
        assertEquals(List.of("de"), user.getAttributeStream("locale").toList());
        assertEquals(List.of("de"), user.getAttributes().get("locale"));
        assertEquals(1, storage.attributeReads.get(), "one read for the enabled check and every attribute view");

        user.setSingleAttribute("locale", "fr");
        assertEquals("fr", user.getFirstAttribute("locale"));
        user.setEnabled(false);
        assertFalse(user.isEnabled());
        assertEquals(3, storage.attributeReads.get(), "read again after each write");
        assertEquals(1, adapter(MAX).getAttributes().get("locale").size(), "another session reads for itself");
    }

    @Test
    void requiredActions_areReadOncePerSession_andAnAbsentOneIsNotRemoved() {
        GatewayUserAdapter user = adapter(MAX);

        user.removeRequiredAction(UserModel.RequiredAction.VERIFY_PROFILE);
        user.removeRequiredAction("VERIFY_PROFILE");
        assertEquals(List.of(), user.getRequiredActionsStream().toList());
        assertEquals(List.of(), storage.requiredActionWrites, "nothing to remove, nothing written");
        assertEquals(1, storage.requiredActionReads.get());

        user.addRequiredAction(UserModel.RequiredAction.UPDATE_PASSWORD);
        user.addRequiredAction("UPDATE_PASSWORD");
        assertEquals(List.of("UPDATE_PASSWORD"), user.getRequiredActionsStream().toList());
        user.removeRequiredAction("UPDATE_PASSWORD");
        assertEquals(List.of(), user.getRequiredActionsStream().toList());
        assertEquals(List.of("add UPDATE_PASSWORD", "remove UPDATE_PASSWORD"), storage.requiredActionWrites);
        assertEquals(Set.of(), storage.actionsOf("f:comp-1:1"));
    }
}
