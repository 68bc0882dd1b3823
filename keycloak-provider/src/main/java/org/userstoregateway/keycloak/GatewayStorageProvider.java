package org.userstoregateway.keycloak;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.credential.CredentialInput;
import org.keycloak.credential.CredentialInputUpdater;
import org.keycloak.credential.CredentialInputValidator;
import org.keycloak.credential.CredentialModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ModelException;
import org.keycloak.models.RealmModel;
import org.keycloak.models.SubjectCredentialManager;
import org.keycloak.models.UserModel;
import org.keycloak.models.cache.CachedUserModel;
import org.keycloak.models.cache.OnUserCache;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.storage.ReadOnlyException;
import org.keycloak.storage.StorageId;
import org.keycloak.storage.UserStorageProvider;
import org.keycloak.storage.user.UserLookupProvider;
import org.keycloak.storage.user.UserQueryProvider;

/**
 * Federates the users of one gateway into a realm, for one Keycloak session.
 *
 * <p>Users are looked up, searched and password-checked over the gateway's
 * API; nothing is imported and nothing is written to the user database. It
 * deliberately does not implement {@code UserRegistrationProvider}, so users
 * created in the realm go to Keycloak's own storage.
 *
 * <p>A failing gateway never surfaces as an exception: lookups answer "not
 * found", searches end early, counts are 0 and passwords do not match, each
 * with a WARN line (DEBUG while the circuit breaker fails calls fast). An
 * interrupted call ends the same way, with the thread's interrupt flag set.
 *
 * <p>Keycloak tells it when a user goes into the user cache ({@link #onCache}),
 * so the factory's change-feed subscriber and sweeper know whom to evict.
 */
public final class GatewayStorageProvider implements UserStorageProvider, UserLookupProvider, UserQueryProvider,
        CredentialInputValidator, CredentialInputUpdater, OnUserCache {

    private static final Logger LOG = Logger.getLogger(GatewayStorageProvider.class);

    private final KeycloakSession session;
    private final ComponentModel model;
    private final GatewayClient client;
    private final MissingRoleWarnings missingRoles;
    private final CachedUsers cachedUsers;

    // What this session has already asked the gateway, so repeated lookups cost one call.
    private final Map<String, GatewayUserAdapter> usersById = new ConcurrentHashMap<>();
    private final Map<String, String> idByUsername = new ConcurrentHashMap<>();
    private final Map<String, String> idByEmail = new ConcurrentHashMap<>();
    private final Set<String> misses = ConcurrentHashMap.newKeySet();

    GatewayStorageProvider(KeycloakSession session, ComponentModel model, GatewayClient client,
                           MissingRoleWarnings missingRoles, CachedUsers cachedUsers) {
        this.session = session;
        this.model = model;
        this.client = client;
        this.missingRoles = missingRoles;
        this.cachedUsers = cachedUsers;
    }

    @Override
    public void close() {
        // The HTTP client belongs to the factory and outlives the session.
    }

    // OnUserCache

    /**
     * Remembers the user with the username and email it is cached under, which
     * an eviction must name. Not called with cache policy NO_CACHE, where
     * nothing is cached.
     */
    @Override
    public void onCache(RealmModel realm, CachedUserModel user, UserModel delegate) {
        if (!isOurs(user) || realm == null) {
            return;
        }
        cachedUsers.cached(realm.getId(), model.getId(), StorageId.externalId(user.getId()), delegate.getUsername(),
                delegate.getEmail(), client.config().maxStaleness());
        fillCachedUser(user);
    }

    /**
     * Fills the parts of a cached user that Keycloak loads on first use (role
     * mappings, attributes, groups, required actions, stored credentials) now,
     * from this session's copy of the user. Otherwise the first request to need
     * one of them loads the user again, and the one that does is often another
     * request: a login through the form needs the roles only in its code
     * exchange, which then looked the user up at the gateway a second time. A
     * login reads all of them anyway; here it costs no gateway call.
     */
    private void fillCachedUser(CachedUserModel user) {
        try {
            user.getRoleMappingsStream().forEach(role -> { });
            user.getAttributes();
            user.getGroupsStream().forEach(group -> { });
            user.getRequiredActionsStream().forEach(action -> { });
            user.credentialManager().getStoredCredentialsStream().forEach(credential -> { });
        } catch (RuntimeException e) {
            // Keycloak loads whatever is still missing on first use, as it would have anyway.
            LOG.debugf("userstore-gateway '%s': filling the cached user '%s' failed: %s", model.getName(),
                    user.getUsername(), e.toString());
        }
    }

    // UserLookupProvider

    @Override
    public UserModel getUserById(RealmModel realm, String id) {
        String externalId = StorageId.externalId(id);
        if (externalId == null || externalId.isEmpty()) {
            return null;
        }
        GatewayUserAdapter known = usersById.get(externalId);
        if (known != null) {
            return known;
        }
        return fetch(realm, "id", externalId, () -> client.userById(externalId));
    }

    @Override
    public UserModel getUserByUsername(RealmModel realm, String username) {
        if (username == null || username.isBlank()) {
            return null;
        }
        String key = Strings.lowerCase(username);
        UserModel known = knownUser(idByUsername.get(key));
        if (known != null) {
            return known;
        }
        return fetch(realm, "username", key, () -> client.userByUsername(username));
    }

    @Override
    public UserModel getUserByEmail(RealmModel realm, String email) {
        if (email == null || email.isBlank()) {
            return null;
        }
        String key = Strings.lowerCase(email);
        UserModel known = knownUser(idByEmail.get(key));
        if (known != null) {
            return known;
        }
        return fetch(realm, "email", key, () -> client.userByEmail(email));
    }

    private UserModel knownUser(String externalId) {
        return externalId == null ? null : usersById.get(externalId);
    }

    private UserModel fetch(RealmModel realm, String kind, String key, Supplier<Optional<GatewayUser>> call) {
        String missKey = kind + ':' + key;
        if (misses.contains(missKey)) {
            return null;
        }
        try {
            Optional<GatewayUser> found = call.get();
            if (found.isEmpty()) {
                misses.add(missKey);
                return null;
            }
            return remember(realm, found.get());
        } catch (GatewayException e) {
            // Asking again in the same session would likely fail the same way, only slower.
            misses.add(missKey);
            LOG.logf(level(e), "userstore-gateway '%s': looking up a user by %s failed, treating the user as not"
                    + " found: %s", model.getName(), kind, e.getMessage());
            return null;
        }
    }

    private GatewayUserAdapter remember(RealmModel realm, GatewayUser user) {
        GatewayUserAdapter adapter = usersById.computeIfAbsent(user.id(),
                id -> new GatewayUserAdapter(session, realm, model, user, missingRoles));
        idByUsername.put(Strings.lowerCase(user.username()), user.id());
        if (user.email() != null && !user.email().isBlank()) {
            idByEmail.put(Strings.lowerCase(user.email()), user.id());
        }
        return adapter;
    }

    // UserQueryProvider

    @Override
    public Stream<UserModel> searchForUserStream(RealmModel realm, Map<String, String> params,
                                                 Integer firstResult, Integer maxResults) {
        UserSearch search = UserSearch.of(params == null ? Map.of() : params);
        if (search.matchesNobody() || (maxResults != null && maxResults == 0)) {
            return Stream.empty();
        }
        int first = firstResult == null || firstResult < 0 ? 0 : firstResult;
        long limit = maxResults == null || maxResults < 0 ? -1 : maxResults;
        if (search.pagesOnGateway()) {
            return UserPages.stream(client, model.getName(), search.gatewaySearch(), first, limit)
                    .map(user -> remember(realm, user));
        }
        Stream<UserModel> users = matching(realm, search).skip(first);
        return limit >= 0 ? users.limit(limit) : users;
    }

    /** Every user matching a search that the gateway cannot page, checked here. */
    private Stream<UserModel> matching(RealmModel realm, UserSearch search) {
        return UserPages.stream(client, model.getName(), search.gatewaySearch(), 0, -1)
                .filter(search::accepts)
                .map(user -> (UserModel) remember(realm, user))
                .filter(search::acceptsEnabled);
    }

    @Override
    public Stream<UserModel> getGroupMembersStream(RealmModel realm, GroupModel group, Integer firstResult,
                                                   Integer maxResults) {
        // Group membership of federated users lives in Keycloak's federated storage, which Keycloak asks itself.
        return Stream.empty();
    }

    @Override
    public Stream<UserModel> searchForUserByUserAttributeStream(RealmModel realm, String attrName, String attrValue) {
        return Stream.empty();
    }

    @Override
    public int getUsersCount(RealmModel realm) {
        return count(UserSearch.ALL);
    }

    @Override
    public int getUsersCount(RealmModel realm, boolean includeServiceAccount) {
        return count(UserSearch.ALL);
    }

    @Override
    @SuppressWarnings("deprecation") // still called by Keycloak; the inherited default would list every user
    public int getUsersCount(RealmModel realm, String search) {
        return count(search == null || search.isBlank() ? UserSearch.ALL : search.strip());
    }

    @Override
    public int getUsersCount(RealmModel realm, Map<String, String> params) {
        UserSearch search = UserSearch.of(params == null ? Map.of() : params);
        if (search.matchesNobody()) {
            return 0;
        }
        if (search.pagesOnGateway()) {
            return count(search.gatewaySearch());
        }
        return (int) Math.min(matching(realm, search).count(), Integer.MAX_VALUE);
    }

    @Override
    public int getUsersCount(RealmModel realm, Set<String> groupIds) {
        return 0;
    }

    @Override
    @SuppressWarnings("deprecation")
    public int getUsersCount(RealmModel realm, String search, Set<String> groupIds) {
        return 0;
    }

    @Override
    public int getUsersCount(RealmModel realm, Map<String, String> params, Set<String> groupIds) {
        return 0;
    }

    private int count(String search) {
        try {
            return client.countUsers(search);
        } catch (GatewayException e) {
            LOG.logf(level(e), "userstore-gateway '%s': counting users failed, reporting 0: %s",
                    model.getName(), e.getMessage());
            return 0;
        }
    }

    // Credentials
    //
    // Keycloak's UserCredentialManager asks this provider first and then Keycloak's own credential providers,
    // which keep the credentials of a federated user in Keycloak's federated credential storage. So "not valid"
    // from isValid and "not updated" from updateCredential hand a password on to Keycloak's
    // PasswordCredentialProvider, while a ReadOnlyException stops an update altogether.

    @Override
    public boolean supportsCredentialType(String credentialType) {
        return PasswordCredentialModel.TYPE.equals(credentialType);
    }

    /**
     * True for a user whose password the database holds. False for one whose
     * password Keycloak keeps (see {@link #passwordKeptInKeycloak}): Keycloak
     * then asks its own password provider, which knows whether it has one.
     */
    @Override
    public boolean isConfiguredFor(RealmModel realm, UserModel user, String credentialType) {
        if (!supportsCredentialType(credentialType) || !isOurs(user)) {
            return false;
        }
        try {
            return !passwordKeptInKeycloak(realm, user);
        } catch (GatewayException e) {
            LOG.logf(level(e), "userstore-gateway '%s': could not look up user '%s' to tell where the password"
                    + " lives, assuming the database: %s", model.getName(), user.getUsername(), e.getMessage());
            return true;
        }
    }

    /**
     * The gateway's verdict, for a user whose password the database holds. A
     * user whose password Keycloak keeps gets {@code false} without a call to
     * the gateway: Keycloak's password provider, asked next, checks that
     * password. When the gateway says no, passwords Keycloak kept for the user
     * are removed first, so they cannot log the user in once the row has a hash
     * or the setting is off; nothing is removed while the gateway cannot answer.
     */
    @Override
    public boolean isValid(RealmModel realm, UserModel user, CredentialInput input) {
        if (input == null || !supportsCredentialType(input.getType()) || !isOurs(user)) {
            return false;
        }
        String password = input.getChallengeResponse();
        if (password == null || password.isEmpty()) {
            return false;
        }
        String externalId = StorageId.externalId(user.getId());
        try {
            if (passwordKeptInKeycloak(realm, user)) {
                return false;
            }
            if (client.verifyPassword(externalId, password)) {
                return true;
            }
        } catch (GatewayException e) {
            LOG.logf(level(e), "userstore-gateway '%s': checking the password of user '%s' failed, rejecting it: %s",
                    model.getName(), user.getUsername(), e.getMessage());
            return false;
        }
        forgetKeycloakPasswords(realm, user);
        return false;
    }

    /**
     * Refuses with {@link ReadOnlyException}, except for a user whose password
     * Keycloak keeps: then {@code false}, and Keycloak's password provider
     * stores the new password in Keycloak. Decided on the row as the gateway
     * has it now; if the gateway cannot answer, the change is refused.
     */
    @Override
    public boolean updateCredential(RealmModel realm, UserModel user, CredentialInput input) {
        if (input == null || !supportsCredentialType(input.getType())) {
            return false;
        }
        boolean keptInKeycloak;
        try {
            keptInKeycloak = isOurs(user) && passwordKeptInKeycloak(realm, user);
        } catch (GatewayException e) {
            LOG.logf(level(e), "userstore-gateway '%s': could not look up user '%s' to set a password, refusing it: %s",
                    model.getName(), user.getUsername(), e.getMessage());
            // No quotes or braces: Keycloak's admin API formats this text as a MessageFormat pattern.
            throw new ModelException("The user database could not be asked whether this user has a password"
                    + " there, so the password was not changed. Try again later.");
        }
        if (keptInKeycloak) {
            LOG.debugf("userstore-gateway '%s': user '%s' has no usable password hash in the database; Keycloak"
                    + " keeps the new password", model.getName(), user.getUsername());
            return false;
        }
        throw new ReadOnlyException("Passwords of users from the user database are managed in that database"
                + " and cannot be changed in Keycloak.");
    }

    /**
     * Whether Keycloak keeps this user's password: the component allows it
     * and the user's row has no usable hash. The row is this session's copy
     * or one fresh lookup, never Keycloak's user cache, so a hash the DBA adds
     * counts at the next password check.
     *
     * @throws GatewayException if the gateway cannot say
     */
    private boolean passwordKeptInKeycloak(RealmModel realm, UserModel user) {
        if (!client.config().localPasswordsWithoutHash()) {
            return false;
        }
        String externalId = StorageId.externalId(user.getId());
        GatewayUserAdapter known = usersById.get(externalId);
        GatewayUser row = known != null ? known.gatewayUser()
                : client.userById(externalId).map(found -> remember(realm, found).gatewayUser()).orElse(null);
        return row != null && !row.hasUsablePassword();
    }

    /**
     * Removes the passwords (and their history) Keycloak keeps for a user whose
     * password the database holds: kept while the row had no hash, they must
     * not outlive it. Through the user's credential manager, which also drops
     * what Keycloak's user cache holds of them.
     */
    private void forgetKeycloakPasswords(RealmModel realm, UserModel user) {
        try {
            SubjectCredentialManager credentials = user.credentialManager();
            List<String> ids = Stream.of(PasswordCredentialModel.TYPE, PasswordCredentialModel.PASSWORD_HISTORY)
                    .flatMap(credentials::getStoredCredentialsByTypeStream)
                    .map(CredentialModel::getId)
                    .toList();
            if (ids.isEmpty()) {
                return;
            }
            ids.forEach(credentials::removeStoredCredentialById);
            LOG.infof("userstore-gateway '%s': removed the password Keycloak kept for user '%s' in realm '%s'"
                    + " (%s); the database's password applies", model.getName(), user.getUsername(),
                    realm.getName(), client.config().localPasswordsWithoutHash()
                            ? "the user's row now has a usable password hash or is gone"
                            : GatewayConfig.LOCAL_PASSWORDS_WITHOUT_HASH + " is off");
        } catch (RuntimeException e) {
            LOG.warnf("userstore-gateway '%s': could not remove the password Keycloak kept for user '%s': %s",
                    model.getName(), user.getUsername(), e.toString());
        }
    }

    @Override
    public void disableCredentialType(RealmModel realm, UserModel user, String credentialType) {
        // Nothing to disable here: the database's password lives in the database, and Keycloak's own password
        // provider handles one it keeps.
    }

    @Override
    public Stream<String> getDisableableCredentialTypesStream(RealmModel realm, UserModel user) {
        return Stream.empty();
    }

    /**
     * WARN for a failed call, DEBUG for one the open circuit refused: the breaker
     * has already logged the outage once, a line per login would only flood the log.
     */
    static Logger.Level level(GatewayException e) {
        return e.isCircuitOpen() ? Logger.Level.DEBUG : Logger.Level.WARN;
    }

    private boolean isOurs(UserModel user) {
        return user != null && model.getId() != null && model.getId().equals(StorageId.providerId(user.getId()));
    }
}
