package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.keycloak.component.ComponentModel;
import org.keycloak.credential.CredentialInput;
import org.keycloak.models.ModelException;
import org.keycloak.models.RealmModel;
import org.keycloak.models.SubjectCredentialManager;
import org.keycloak.models.UserModel;
import org.keycloak.models.cache.CachedUserModel;
import org.keycloak.models.credential.OTPCredentialModel;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.storage.ReadOnlyException;
import org.keycloak.storage.user.UserRegistrationProvider;

class GatewayStorageProviderTest {

    private final StubGateway gateway = new StubGateway();
    private final Fakes.FederatedStorage storage = new Fakes.FederatedStorage();
    private final Fakes.Realm realm = new Fakes.Realm("test");
    private final RealmModel realmModel = realm.model;
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final CachedUsers cachedUsers = new CachedUsers(now::get);
    private ComponentModel component = gateway.component();
    private GatewayClient client = gateway.client();
    private GatewayStorageProvider provider = providerFor(component, client);

    @AfterEach
    void stop() {
        client.close();
        gateway.close();
    }

    private GatewayStorageProvider providerFor(ComponentModel model, GatewayClient gatewayClient) {
        return new GatewayStorageProvider(Fakes.session(storage), model, gatewayClient,
                new MissingRoleWarnings(Duration.ofMinutes(10)), cachedUsers);
    }

    private static CredentialInput input(String type, String value) {
        return new CredentialInput() {
            @Override
            public String getCredentialId() {
                return null;
            }

            @Override
            public String getType() {
                return type;
            }

            @Override
            public String getChallengeResponse() {
                return value;
            }
        };
    }

    private static CredentialInput password(String value) {
        return input(PasswordCredentialModel.TYPE, value);
    }

    // Lookups

    @Test
    void getUserById_keycloakStorageId_asksForTheExternalId() {
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));

        UserModel user = provider.getUserById(realmModel, "f:component-1:1");

        assertEquals("f:component-1:1", user.getId());
        assertEquals("mmustermann", user.getUsername());
        assertEquals("component-1", user.getFederationLink());
    }

    @Test
    void getUserByUsername_found_returnsTheUser() {
        gateway.on("GET", "/v1/users/by-username/MMustermann", StubGateway.json(TestUsers.MAX));

        UserModel user = provider.getUserByUsername(realmModel, "MMustermann");

        assertEquals("f:component-1:1", user.getId());
        assertEquals("m.mustermann@example.test", user.getEmail());
    }

    @Test
    void getUserByEmail_found_returnsTheUser() {
        gateway.on("GET", "/v1/users/by-email/m.mustermann%40example.test", StubGateway.json(TestUsers.MAX));

        assertEquals("mmustermann", provider.getUserByEmail(realmModel, "m.mustermann@example.test").getUsername());
    }

    @Test
    void lookups_unknownUser_returnNull() {
        assertNull(provider.getUserById(realmModel, "f:component-1:404"));
        assertNull(provider.getUserByUsername(realmModel, "ghost"));
        assertNull(provider.getUserByEmail(realmModel, "ghost@example.test"));
        assertNull(provider.getUserByUsername(realmModel, " "));
    }

    @Test
    void lookups_repeatedInOneSession_costOneCall() {
        gateway.on("GET", "/v1/users/by-username/mmustermann", StubGateway.json(TestUsers.MAX));

        UserModel first = provider.getUserByUsername(realmModel, "mmustermann");
        UserModel again = provider.getUserByUsername(realmModel, "MMUSTERMANN");
        UserModel byId = provider.getUserById(realmModel, "f:component-1:1");
        UserModel byEmail = provider.getUserByEmail(realmModel, "M.Mustermann@example.test");
        provider.getUserByUsername(realmModel, "ghost");
        provider.getUserByUsername(realmModel, "ghost");

        assertSame(first, again);
        assertSame(first, byId);
        assertSame(first, byEmail);
        assertEquals(2, gateway.requests().size(), gateway.requests().toString());
    }

    @Test
    void lookups_newSession_askAgain() {
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));

        provider.getUserById(realmModel, "f:component-1:1");
        providerFor(component, client).getUserById(realmModel, "f:component-1:1");

        assertEquals(2, gateway.requests().size());
    }

    @Test
    void usersFromASearch_lookedUpLater_needNoCall() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(3, 100));

        List<UserModel> found = provider.searchForUserStream(realmModel, Map.of(UserModel.SEARCH, "user"), 0, 10).toList();
        int searchCalls = gateway.requests().size();
        UserModel byName = provider.getUserByUsername(realmModel, "user0002");

        assertSame(found.get(2), byName);
        assertEquals(searchCalls, gateway.requests().size());
    }

    // Gateway failures

    enum Failure { SERVER_ERROR, TIMEOUT, GARBAGE, REFUSED }

    private void breakGateway(Failure failure) throws IOException {
        StubGateway.Reply reply = switch (failure) {
            case SERVER_ERROR -> StubGateway.problem(500, "Internal Server Error", "error id 4711");
            case TIMEOUT -> StubGateway.json(TestUsers.MAX).after(1_500);
            case GARBAGE -> StubGateway.json("<html>not json</html>");
            case REFUSED -> null;
        };
        if (reply == null) {
            int closedPort;
            try (ServerSocket socket = new ServerSocket(0)) {
                closedPort = socket.getLocalPort();
            }
            component = gateway.component();
            component.getConfig().putSingle(GatewayConfig.GATEWAY_URL, "http://127.0.0.1:" + closedPort);
            client = new GatewayClient(GatewayConfig.from(component));
            provider = providerFor(component, client);
            return;
        }
        for (String path : List.of("/v1/users/1", "/v1/users/by-username/mmustermann",
                "/v1/users/by-email/m.mustermann%40example.test", "/v1/users", "/v1/users/count")) {
            gateway.on("GET", path, reply);
        }
        gateway.on("POST", "/v1/users/1/verify-password", reply);
    }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void lookups_gatewayFailing_endAsNotFoundWithAWarning(Failure failure) throws IOException {
        breakGateway(failure);
        try (LogCapture logs = LogCapture.start()) {
            assertNull(provider.getUserById(realmModel, "f:component-1:1"));
            assertNull(provider.getUserByUsername(realmModel, "mmustermann"));
            assertNull(provider.getUserByEmail(realmModel, "m.mustermann@example.test"));

            assertEquals(3, logs.warnings().size(), logs.warnings().toString());
            assertTrue(logs.warnings().get(0).contains("treating the user as not found"), logs.warnings().get(0));
            assertFalse(logs.everything().contains(StubGateway.TOKEN));
        }
    }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void queries_gatewayFailing_endEmptyWithAWarning(Failure failure) throws IOException {
        breakGateway(failure);
        try (LogCapture logs = LogCapture.start()) {
            assertEquals(0, provider.searchForUserStream(realmModel, Map.of(UserModel.SEARCH, "m"), 0, 10).count());
            assertEquals(0, provider.searchForUserStream(realmModel, Map.of(UserModel.USERNAME, "m"), 0, 10).count());
            assertEquals(0, provider.getUsersCount(realmModel));
            assertEquals(0, provider.getUsersCount(realmModel, Map.of(UserModel.USERNAME, "m")));

            assertEquals(4, logs.warnings().size(), logs.warnings().toString());
            assertFalse(logs.everything().contains(StubGateway.TOKEN));
        }
    }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void isValid_gatewayFailing_isFalseWithAWarningWithoutThePassword(Failure failure) throws IOException {
        UserModel user = adapterFor("1", "mmustermann");
        breakGateway(failure);
        try (LogCapture logs = LogCapture.start()) {
            assertFalse(provider.isValid(realmModel, user, password("hunter2-secret")));

            assertEquals(1, logs.warnings().size(), logs.warnings().toString());
            assertTrue(logs.warnings().get(0).contains("'mmustermann'"), logs.warnings().get(0));
            assertFalse(logs.everything().contains("hunter2-secret"));
            assertFalse(logs.everything().contains(StubGateway.TOKEN));
        }
    }

    @Test
    void gatewayDown_pastTheThreshold_failsFastWithOneWarningForTheOutage() {
        component.getConfig().putSingle(GatewayConfig.BREAKER_FAILURE_THRESHOLD, "2");
        client = new GatewayClient(GatewayConfig.from(component));
        provider = providerFor(component, client);
        for (int i = 0; i < 10; i++) {
            gateway.on("GET", "/v1/users/by-username/u" + i, StubGateway.problem(503, "Service Unavailable", "db"));
        }
        try (LogCapture logs = LogCapture.start()) {
            for (int i = 0; i < 10; i++) {
                assertNull(provider.getUserByUsername(realmModel, "u" + i));
            }

            assertEquals(2, gateway.requests().size(), "calls after the circuit opened never reach the gateway");
            List<String> warnings = logs.warnings();
            assertEquals(3, warnings.size(), warnings.toString());
            assertEquals(1, warnings.stream().filter(w -> w.contains("circuit open")).count(), warnings.toString());
        }
    }

    @Test
    void lookup_interruptedWhileTheGatewayHangs_isNotFoundAtOnceWithTheFlagSet() throws Exception {
        // What Keycloak's time bound on username lookups does: interrupt the calling thread.
        component.getConfig().putSingle(GatewayConfig.REQUEST_TIMEOUT_MS, "30000");
        client = new GatewayClient(GatewayConfig.from(component));
        provider = providerFor(component, client);
        gateway.on("GET", "/v1/users/by-username/mmustermann", StubGateway.json(TestUsers.MAX).after(30_000));
        AtomicReference<UserModel> found = new AtomicReference<>();
        AtomicBoolean returned = new AtomicBoolean();
        AtomicBoolean flagAfterwards = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            found.set(provider.getUserByUsername(realmModel, "mmustermann"));
            returned.set(true);
            flagAfterwards.set(Thread.currentThread().isInterrupted());
        });
        caller.start();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (gateway.requests().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }

        long start = System.nanoTime();
        caller.interrupt();
        caller.join(5_000);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertTrue(returned.get());
        assertTrue(millis < 1_000, "returned " + millis + " ms after the interrupt");
        assertNull(found.get());
        assertTrue(flagAfterwards.get(), "the interrupt flag is set again");
    }

    // OnUserCache

    private static CachedUserModel cachedUser(String id) {
        return Fakes.proxy(CachedUserModel.class, "cached user " + id, Map.of("getId", args -> id));
    }

    @Test
    void onCache_userOfThisComponent_isTrackedWithTheUsernameAndEmailItIsCachedUnder() {
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));
        UserModel loaded = provider.getUserById(realmModel, "f:component-1:1");

        provider.onCache(realmModel, cachedUser("f:component-1:1"), loaded);

        CachedUsers.Entry entry = cachedUsers.takeAll("component-1").get(0);
        assertEquals(new CachedUsers.Entry("realm-test", "component-1", "1", "mmustermann",
                "m.mustermann@example.test", 1_000_000, GatewayConfig.DEFAULT_MAX_STALENESS_MS), entry);
    }

    @Test
    void onCache_userOfThisComponent_hasWhatKeycloakLoadsOnFirstUseLoadedAtOnce() {
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));
        UserModel loaded = provider.getUserById(realmModel, "f:component-1:1");
        List<String> read = new ArrayList<>();
        Map<String, Function<Object[], Object>> answers = new HashMap<>();
        answers.put("getId", args -> "f:component-1:1");
        for (String method : List.of("getRoleMappingsStream", "getGroupsStream", "getRequiredActionsStream")) {
            answers.put(method, args -> {
                read.add(method);
                return Stream.empty();
            });
        }
        answers.put("getAttributes", args -> {
            read.add("getAttributes");
            return Map.of();
        });
        answers.put("credentialManager", args -> Fakes.proxy(SubjectCredentialManager.class, "credentials",
                Map.of("getStoredCredentialsStream", a -> {
                    read.add("getStoredCredentialsStream");
                    return Stream.empty();
                })));

        provider.onCache(realmModel, Fakes.proxy(CachedUserModel.class, "cached user", answers), loaded);

        assertEquals(List.of("getRoleMappingsStream", "getAttributes", "getGroupsStream", "getRequiredActionsStream",
                "getStoredCredentialsStream"), read);
        assertEquals(1, gateway.requests().size(), "all of it from the session's copy of the user");
    }

    @Test
    void onCache_userOfAnotherComponent_isNotTracked() {
        provider.onCache(realmModel, cachedUser("f:component-2:1"), adapterFor("1", "mmustermann"));

        assertEquals(0, cachedUsers.size());
    }

    // Credentials

    private UserModel adapterFor(String id, String username) {
        GatewayUser user = new GatewayUser(id, username, null, null, null, true, false, null, null, null, null, null);
        return new GatewayUserAdapter(Fakes.session(new Fakes.FederatedStorage()), realmModel, component, user,
                new MissingRoleWarnings(Duration.ofMinutes(10)));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void isValid_password_returnsTheGatewayVerdict(boolean valid) {
        gateway.on("POST", "/v1/users/1/verify-password", StubGateway.json("{\"valid\":" + valid + "}"));

        assertEquals(valid, provider.isValid(realmModel, adapterFor("1", "mmustermann"), password("s3cret")));
        StubGateway.Request request = gateway.lastRequest();
        assertEquals("{\"password\":\"s3cret\"}", request.body());
        assertEquals("Bearer " + StubGateway.TOKEN, request.authorization());
    }

    @Test
    void isValid_emptyPasswordOrOtherTypeOrForeignUser_isFalseWithoutACall() {
        UserModel ours = adapterFor("1", "mmustermann");
        ComponentModel other = gateway.component();
        other.setId("component-2");
        UserModel foreign = new GatewayUserAdapter(Fakes.session(new Fakes.FederatedStorage()), realmModel, other,
                new GatewayUser("1", "x", null, null, null, null, null, null, null, null, null, null),
                new MissingRoleWarnings(Duration.ofMinutes(10)));

        assertFalse(provider.isValid(realmModel, ours, password("")));
        assertFalse(provider.isValid(realmModel, ours, password(null)));
        assertFalse(provider.isValid(realmModel, ours, input(OTPCredentialModel.TYPE, "123456")));
        assertFalse(provider.isValid(realmModel, foreign, password("s3cret")));
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void credentialTypes_onlyPassword_isSupportedAndConfigured() {
        UserModel user = adapterFor("1", "mmustermann");

        assertTrue(provider.supportsCredentialType(PasswordCredentialModel.TYPE));
        assertFalse(provider.supportsCredentialType(OTPCredentialModel.TYPE));
        assertTrue(provider.isConfiguredFor(realmModel, user, PasswordCredentialModel.TYPE));
        assertFalse(provider.isConfiguredFor(realmModel, user, OTPCredentialModel.TYPE));
    }

    @Test
    void updateCredential_password_throwsReadOnly() {
        UserModel user = adapterFor("1", "mmustermann");

        ReadOnlyException e = assertThrows(ReadOnlyException.class,
                () -> provider.updateCredential(realmModel, user, password("new")));

        assertTrue(e.getMessage().contains("managed in that database"), e.getMessage());
        assertFalse(provider.updateCredential(realmModel, user, input(OTPCredentialModel.TYPE, "123456")));
    }

    // Passwords Keycloak keeps for users without a usable hash (localPasswordsWithoutHash)

    private static final String BOB_ID = "f:component-1:5";

    private void localPasswords(boolean on) {
        client.close();
        component = gateway.component();
        component.getConfig().putSingle(GatewayConfig.LOCAL_PASSWORDS_WITHOUT_HASH, String.valueOf(on));
        client = new GatewayClient(GatewayConfig.from(component));
        provider = providerFor(component, client);
    }

    /** Bob as Keycloak's user cache hands him to the provider: not loaded in this session. */
    private CachedUserModel cachedBob() {
        return Fakes.cachedUser(BOB_ID, "bob", storage);
    }

    private long calls(String method, String path) {
        return gateway.requests().stream().filter(r -> r.method().equals(method) && r.rawPath().equals(path)).count();
    }

    @Test
    void updateCredential_settingOnAndNoUsableHash_isFalseSoKeycloakStoresThePassword() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB));

        assertFalse(provider.updateCredential(realmModel, cachedBob(), password("Kc-kept-1!")));

        assertEquals(1, calls("GET", "/v1/users/5"), "decided on the row as the gateway has it now");
    }

    @Test
    void updateCredential_settingOnAndUsableHash_throwsReadOnly() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));
        UserModel max = provider.getUserById(realmModel, "f:component-1:1");

        ReadOnlyException e = assertThrows(ReadOnlyException.class,
                () -> provider.updateCredential(realmModel, max, password("new")));

        assertTrue(e.getMessage().contains("managed in that database"), e.getMessage());
        assertEquals(1, gateway.requests().size(), "the row loaded in this session needs no second lookup");
    }

    @Test
    void updateCredential_settingOff_throwsReadOnlyEvenWithoutAHashAndAsksNothing() {
        localPasswords(false);
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB));

        assertThrows(ReadOnlyException.class, () -> provider.updateCredential(realmModel, cachedBob(),
                password("Kc-kept-1!")));

        assertTrue(gateway.requests().isEmpty(), gateway.requests().toString());
    }

    @Test
    void updateCredential_settingOnAndGatewayFailing_isRefusedWithoutQuotesForMessageFormat() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.problem(503, "Service Unavailable", "db down"));

        try (LogCapture logs = LogCapture.start()) {
            ModelException e = assertThrows(ModelException.class,
                    () -> provider.updateCredential(realmModel, cachedBob(), password("Kc-kept-1!")));

            assertFalse(e.getMessage().contains("'") || e.getMessage().contains("{"), e.getMessage());
            assertEquals(1, logs.warnings().size(), logs.warnings().toString());
            assertFalse(logs.everything().contains("Kc-kept-1!"));
        }
    }

    @Test
    void isConfiguredFor_settingOnAndNoUsableHash_leavesItToKeycloaksOwnPassword() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB));
        gateway.on("GET", "/v1/users/1", StubGateway.json(TestUsers.MAX));

        assertFalse(provider.isConfiguredFor(realmModel, cachedBob(), PasswordCredentialModel.TYPE));
        assertTrue(provider.isConfiguredFor(realmModel, provider.getUserById(realmModel, "f:component-1:1"),
                PasswordCredentialModel.TYPE));
    }

    @Test
    void isConfiguredFor_settingOff_claimsThePasswordOfUsersWithoutAHashAsBefore() {
        localPasswords(false);

        assertTrue(provider.isConfiguredFor(realmModel, cachedBob(), PasswordCredentialModel.TYPE));
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void isValid_settingOnAndNoUsableHash_isFalseWithoutVerifyingAndKeepsKeycloaksPassword() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB));
        storage.keep(BOB_ID, PasswordCredentialModel.TYPE, "kc-password");

        assertFalse(provider.isValid(realmModel, cachedBob(), password("Kc-kept-1!")));

        assertEquals(0, calls("POST", "/v1/users/5/verify-password"), "Keycloak's password provider checks it");
        assertEquals(1, storage.credentialsOf(BOB_ID).size());
        assertTrue(storage.removedCredentials.isEmpty());
    }

    @Test
    void isValid_settingOnAndTheRowGotAHash_removesWhatKeycloakKeptWithOneInfoLine() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB_WITH_HASH));
        gateway.on("POST", "/v1/users/5/verify-password", StubGateway.json("{\"valid\":false}"));
        storage.keep(BOB_ID, PasswordCredentialModel.TYPE, "kc-password");
        storage.keep(BOB_ID, PasswordCredentialModel.PASSWORD_HISTORY, "kc-history");
        storage.keep(BOB_ID, OTPCredentialModel.TYPE, "kc-otp");

        try (LogCapture logs = LogCapture.start()) {
            assertFalse(provider.isValid(realmModel, cachedBob(), password("Kc-kept-1!")));

            assertEquals(List.of("kc-password", "kc-history"), storage.removedCredentials);
            assertEquals(List.of("kc-otp"), storage.credentialsOf(BOB_ID).stream().map(c -> c.getId()).toList(),
                    "other credentials Keycloak keeps stay");
            List<String> info = logs.lines().stream().filter(l -> l.startsWith("INFO")).toList();
            assertEquals(1, info.size(), logs.lines().toString());
            assertTrue(info.get(0).contains("'bob'") && info.get(0).contains("realm 'test'"), info.get(0));
            assertFalse(logs.everything().contains("Kc-kept-1!"));
            assertFalse(logs.everything().contains("not-a-real-hash"));
        }
        assertEquals(1, calls("POST", "/v1/users/5/verify-password"), "the database decides");
    }

    @Test
    void isValid_settingOnAndTheRowGotAHash_databasePasswordLogsIn() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.json(TestUsers.BOB_WITH_HASH));
        gateway.on("POST", "/v1/users/5/verify-password", StubGateway.json("{\"valid\":true}"));

        assertTrue(provider.isValid(realmModel, cachedBob(), password("Db-pass-1!")));
    }

    @Test
    void isValid_settingTurnedOff_removesWhatKeycloakKeptOnceTheGatewaySaysNo() {
        localPasswords(false);
        gateway.on("POST", "/v1/users/5/verify-password", StubGateway.json("{\"valid\":false}"));
        storage.keep(BOB_ID, PasswordCredentialModel.TYPE, "kc-password");

        try (LogCapture logs = LogCapture.start()) {
            assertFalse(provider.isValid(realmModel, cachedBob(), password("Kc-kept-1!")));
            assertFalse(provider.isValid(realmModel, cachedBob(), password("Kc-kept-1!")));

            assertEquals(List.of("kc-password"), storage.removedCredentials);
            List<String> info = logs.lines().stream().filter(l -> l.startsWith("INFO")).toList();
            assertEquals(1, info.size(), "one line, when something was removed: " + logs.lines());
            assertTrue(info.get(0).contains("localPasswordsWithoutHash is off"), info.get(0));
        }
        assertEquals(0, calls("GET", "/v1/users/5"), "with the setting off no row is needed");
    }

    @Test
    void isValid_settingOnAndGatewayFailing_removesNothing() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/5", StubGateway.problem(503, "Service Unavailable", "db down"));
        storage.keep(BOB_ID, PasswordCredentialModel.TYPE, "kc-password");

        try (LogCapture logs = LogCapture.start()) {
            assertFalse(provider.isValid(realmModel, cachedBob(), password("Kc-kept-1!")));

            assertEquals(1, logs.warnings().size(), logs.warnings().toString());
            assertFalse(logs.everything().contains("Kc-kept-1!"));
        }
        assertTrue(storage.removedCredentials.isEmpty());
        assertEquals(0, calls("POST", "/v1/users/5/verify-password"));
    }

    @Test
    void isValid_settingOnAndUserLoadedInThisSession_asksForTheRowOnce() {
        localPasswords(true);
        gateway.on("GET", "/v1/users/by-username/bob", StubGateway.json(TestUsers.BOB));
        UserModel bob = provider.getUserByUsername(realmModel, "bob");

        assertFalse(provider.isValid(realmModel, bob, password("Kc-kept-1!")));
        assertFalse(provider.isConfiguredFor(realmModel, bob, PasswordCredentialModel.TYPE));
        assertFalse(provider.updateCredential(realmModel, bob, password("Kc-kept-2!")));

        assertEquals(1, gateway.requests().size(), gateway.requests().toString());
    }

    @Test
    void disableCredentialType_any_doesNothingAndNothingIsDisableable() {
        UserModel user = adapterFor("1", "mmustermann");

        provider.disableCredentialType(realmModel, user, PasswordCredentialModel.TYPE);

        assertEquals(0, provider.getDisableableCredentialTypesStream(realmModel, user).count());
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void provider_userRegistration_isNotOffered() {
        assertFalse(UserRegistrationProvider.class.isAssignableFrom(GatewayStorageProvider.class));
    }

    // Search and count

    private List<String> usernames(Map<String, String> params, Integer first, Integer max) {
        return provider.searchForUserStream(realmModel, params, first, max).map(UserModel::getUsername).toList();
    }

    private List<String> pagesAsked() {
        return gateway.requests().stream()
                .map(r -> StubGateway.query(r.rawQuery()))
                .map(q -> q.get("first") + "+" + q.get("max"))
                .toList();
    }

    @Test
    void searchForUserStream_firstAndMax_areHonouredInOneCall() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        List<String> names = usernames(Map.of(UserModel.SEARCH, "user"), 30, 20);

        assertEquals(20, names.size());
        assertEquals("user0030", names.get(0));
        assertEquals("user0049", names.get(19));
        assertEquals(List.of("30+20"), pagesAsked());
    }

    @Test
    void searchForUserStream_moreThanTheGatewayCap_pagesThrough() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        List<String> names = usernames(Map.of(UserModel.SEARCH, "*"), 0, 240);

        assertEquals(240, names.size());
        assertEquals(240, Set.copyOf(names).size());
        assertEquals("user0239", names.get(239));
        assertEquals(List.of("0+240", "100+140", "200+40"), pagesAsked());
    }

    @Test
    void searchForUserStream_noLimit_readsUntilTheLastPage() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        List<String> names = usernames(Map.of(), null, null);

        assertEquals(250, names.size());
        assertEquals(List.of("0+100", "100+100", "200+100"), pagesAsked());
    }

    @Test
    void searchForUserStream_shortPageWithinAProvenCap_endsWithoutAnotherCall() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(5, 3));

        List<String> firstTime = usernames(Map.of(UserModel.SEARCH, "*"), 0, 11);
        List<String> secondTime = usernames(Map.of(UserModel.SEARCH, "*"), 0, 3);

        assertEquals(5, firstTime.size());
        assertEquals(3, secondTime.size());
        // 11 > any page seen, so short pages are not trusted until an empty one; 3 <= the proven cap of 3.
        assertEquals(List.of("0+11", "3+8", "5+6", "0+3"), pagesAsked());
    }

    @Test
    void searchForUserStream_readLazily_fetchesOnlyWhatIsConsumed() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        List<UserModel> firstFive = provider.searchForUserStream(realmModel, Map.of(), null, null).limit(5).toList();

        assertEquals(5, firstFive.size());
        assertEquals(List.of("0+100"), pagesAsked());
    }

    @Test
    void searchForUserStream_fieldSearch_filtersAndPagesLocally() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        List<String> names = usernames(Map.of(UserModel.USERNAME, "user01", UserModel.ENABLED, "true"), 2, 3);

        // user0100..user0199 contain "user01"; of those the even ones are enabled: 0100, 0102, 0104, 0106, ...
        assertEquals(List.of("user0104", "user0106", "user0108"), names);
        assertEquals("*user01*", StubGateway.query(gateway.requests().get(0).rawQuery()).get("search"));
        assertEquals("0", StubGateway.query(gateway.requests().get(0).rawQuery()).get("first"));
    }

    @Test
    void enabledSearch_userDisabledInKeycloak_countsAsDisabled() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(4, 100));
        // user0000 and user0002 are enabled in the database; user0000 is disabled in Keycloak.
        storage.attributesOf("f:component-1:0").putSingle("ENABLED", "false");

        assertEquals(List.of("user0002"), usernames(Map.of(UserModel.ENABLED, "true"), 0, 10));
        assertEquals(List.of("user0000", "user0001", "user0003"), usernames(Map.of(UserModel.ENABLED, "false"), 0, 10));
        assertEquals(3, provider.getUsersCount(realmModel, Map.of(UserModel.ENABLED, "false")));
    }

    @Test
    void searchForUserStream_maxZeroOrUnanswerableSearch_isEmptyWithoutACall() {
        assertEquals(List.of(), usernames(Map.of(UserModel.SEARCH, "*"), 0, 0));
        assertEquals(List.of(), usernames(Map.of(UserModel.IDP_ALIAS, "github"), 0, 10));
        assertEquals(List.of(), usernames(Map.of("department", "sales"), 0, 10));
        assertEquals(0, provider.searchForUserByUserAttributeStream(realmModel, "phone", "+49").count());
        assertEquals(0, provider.getGroupMembersStream(realmModel, null, 0, 10).count());
        assertEquals(0, provider.getGroupMembersStream(realmModel, null).count());
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void getUsersCount_searchVariants_useTheCountRoute() {
        gateway.on("GET", "/v1/users/count", request -> StubGateway.json(
                "{\"count\":" + StubGateway.query(request.rawQuery()).get("search").length() + "}"));

        assertEquals(1, provider.getUsersCount(realmModel));
        assertEquals(1, provider.getUsersCount(realmModel, true));
        assertEquals(4, provider.getUsersCount(realmModel, " max* "));
        assertEquals(2, provider.getUsersCount(realmModel, Map.of(UserModel.SEARCH, "mm",
                UserModel.INCLUDE_SERVICE_ACCOUNT, "false")));
        assertEquals(List.of("*", "*", "max*", "mm"), gateway.requests().stream()
                .map(r -> StubGateway.query(r.rawQuery()).get("search")).toList());
    }

    @Test
    void getUsersCount_fieldSearch_countsMatchesLocally() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(250, 100));

        assertEquals(100, provider.getUsersCount(realmModel, Map.of(UserModel.USERNAME, "user01")));
    }

    @Test
    void getUsersCount_groupsOrUnanswerable_isZeroWithoutACall() {
        assertEquals(0, provider.getUsersCount(realmModel, Set.of("group-1")));
        assertEquals(0, provider.getUsersCount(realmModel, "m", Set.of("group-1")));
        assertEquals(0, provider.getUsersCount(realmModel, Map.of(UserModel.SEARCH, "m"), Set.of("group-1")));
        assertEquals(0, provider.getUsersCount(realmModel, Map.of(UserModel.IDP_USER_ID, "42")));
        assertTrue(gateway.requests().isEmpty());
    }

    @Test
    void searchResults_areFederatedAdapters_withKeycloakIds() {
        gateway.on("GET", "/v1/users", StubGateway.pagedUsers(2, 100));

        Set<String> ids = provider.searchForUserStream(realmModel, Map.of(), 0, 10).map(UserModel::getId)
                .collect(Collectors.toSet());

        assertEquals(Set.of("f:component-1:0", "f:component-1:1"), ids);
        // A short first page does not prove the end (the gateway's cap is not known yet): one more page is asked.
        assertEquals(List.of("0+10", "2+8"), pagesAsked());
        assertNotNull(provider.getUserById(realmModel, "f:component-1:0"));
        assertEquals(2, gateway.requests().size());
    }
}
