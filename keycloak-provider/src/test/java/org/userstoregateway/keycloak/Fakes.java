package org.userstoregateway.keycloak;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

import org.keycloak.common.util.MultivaluedHashMap;
import org.keycloak.component.ComponentModel;
import org.keycloak.credential.CredentialModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.KeycloakTransactionManager;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RealmProvider;
import org.keycloak.models.RoleContainerModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.SubjectCredentialManager;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserProvider;
import org.keycloak.models.cache.CachedUserModel;
import org.keycloak.models.cache.UserCache;
import org.keycloak.provider.ProviderEventListener;
import org.keycloak.storage.federated.UserFederatedStorageProvider;

/**
 * Hand-made stand-ins for the few Keycloak model objects the tests touch,
 * built as {@link Proxy} instances: a method without a scripted answer returns
 * an empty stream or collection, false, 0 or null.
 */
final class Fakes {

    private Fakes() {
    }

    static <T> T proxy(Class<T> type, String label, Map<String, Function<Object[], Object>> answers) {
        InvocationHandler handler = (self, method, args) -> {
            Object[] arguments = args == null ? new Object[0] : args;
            switch (method.getName()) {
                case "equals":
                    if (arguments.length == 1 && method.getParameterTypes()[0] == Object.class) {
                        return self == arguments[0];
                    }
                    break;
                case "hashCode":
                    if (arguments.length == 0) {
                        return System.identityHashCode(self);
                    }
                    break;
                case "toString":
                    if (arguments.length == 0) {
                        return label;
                    }
                    break;
                default:
                    break;
            }
            Function<Object[], Object> answer = answers.get(method.getName());
            if (answer != null) {
                return answer.apply(arguments);
            }
            return emptyValueOf(method.getReturnType());
        };
        return type.cast(Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {type}, handler));
    }

    private static Object emptyValueOf(Class<?> type) {
        if (type == Stream.class) {
            return Stream.empty();
        } else if (type == boolean.class) {
            return false;
        } else if (type == int.class) {
            return 0;
        } else if (type == long.class) {
            return 0L;
        } else if (type == Set.class) {
            return Set.of();
        } else if (type == List.class || type == Collection.class) {
            return List.of();
        } else if (type == Map.class) {
            return Map.of();
        }
        return null;
    }

    /** A realm with the given realm roles and clients, and a default role whose composites are {@code defaults}. */
    static final class Realm {
        final Map<String, RoleModel> roles = new HashMap<>();
        final Map<String, ClientModel> clients = new HashMap<>();
        final Set<RoleModel> defaults = new LinkedHashSet<>();
        final Map<String, ComponentModel> components = new ConcurrentHashMap<>();
        final RealmModel model;

        Realm(String name) {
            RoleModel[] defaultRole = new RoleModel[1];
            Map<String, Function<Object[], Object>> answers = new HashMap<>();
            answers.put("getName", args -> name);
            answers.put("getId", args -> "realm-" + name);
            answers.put("getRole", args -> roles.get((String) args[0]));
            answers.put("getClientByClientId", args -> clients.get((String) args[0]));
            answers.put("getDefaultRole", args -> defaultRole[0]);
            answers.put("getComponent", args -> components.get((String) args[0]));
            answers.put("getComponentsStream", args -> components.values().stream()
                    .filter(c -> args.length < 1 || Objects.equals(c.getParentId(), args[0]))
                    .filter(c -> args.length < 2 || Objects.equals(c.getProviderType(), args[1])));
            model = proxy(RealmModel.class, "realm " + name, answers);
            defaultRole[0] = role("default-roles-" + name, model, defaults);
        }

        RoleModel addRole(String name) {
            RoleModel role = role(name, model, Set.of());
            roles.put(name, role);
            return role;
        }

        RoleModel addDefaultRole(String name) {
            RoleModel role = addRole(name);
            defaults.add(role);
            return role;
        }

        ClientModel addClient(String clientId, String... roleNames) {
            Map<String, RoleModel> clientRoles = new HashMap<>();
            Map<String, Function<Object[], Object>> answers = new HashMap<>();
            answers.put("getClientId", args -> clientId);
            answers.put("getId", args -> "client-" + clientId);
            answers.put("getRole", args -> clientRoles.get((String) args[0]));
            answers.put("getRealm", args -> model);
            ClientModel client = proxy(ClientModel.class, "client " + clientId, answers);
            for (String roleName : roleNames) {
                clientRoles.put(roleName, role(roleName, client, Set.of()));
            }
            clients.put(clientId, client);
            return client;
        }
    }

    static RoleModel role(String name, RoleContainerModel container, Set<RoleModel> composites) {
        Map<String, Function<Object[], Object>> answers = new HashMap<>();
        RoleModel[] self = new RoleModel[1];
        answers.put("getName", args -> name);
        answers.put("getId", args -> "role-" + name);
        answers.put("getContainer", args -> container);
        answers.put("getContainerId", args -> container.getId());
        answers.put("isClientRole", args -> container instanceof ClientModel);
        answers.put("isComposite", args -> !composites.isEmpty());
        answers.put("getCompositesStream", args -> composites.stream());
        answers.put("hasRole", args -> self[0] == args[0] || composites.stream().anyMatch(c -> c.hasRole((RoleModel) args[0])));
        self[0] = proxy(RoleModel.class, "role " + name, answers);
        return self[0];
    }

    /** Keycloak's federated storage for users of a storage provider, in memory. */
    static final class FederatedStorage {
        final Map<String, MultivaluedHashMap<String, String>> attributes = new HashMap<>();
        final Map<String, Set<RoleModel>> grants = new HashMap<>();
        final Map<String, Set<String>> requiredActions = new HashMap<>();
        /** How often the attributes and the required actions were read, and each write of a required action. */
        final AtomicInteger attributeReads = new AtomicInteger();
        final AtomicInteger requiredActionReads = new AtomicInteger();
        final List<String> requiredActionWrites = new ArrayList<>();
        final UserFederatedStorageProvider provider;

        /** What Keycloak keeps in its federated credential storage, per user id. */
        final Map<String, List<CredentialModel>> credentials = new ConcurrentHashMap<>();
        /** Ids of credentials removed through a credential manager, in order. */
        final List<String> removedCredentials = new CopyOnWriteArrayList<>();

        FederatedStorage() {
            Map<String, Function<Object[], Object>> answers = new HashMap<>();
            answers.put("getAttributes", args -> {
                attributeReads.incrementAndGet();
                MultivaluedHashMap<String, String> stored = attributes.get(Objects.toString(args[1]));
                return stored == null ? new MultivaluedHashMap<String, String>() : copy(stored);
            });
            answers.put("setSingleAttribute", args -> {
                attributesOf(args[1]).putSingle((String) args[2], (String) args[3]);
                return null;
            });
            answers.put("setAttribute", args -> {
                @SuppressWarnings("unchecked")
                List<String> values = (List<String>) args[3];
                attributesOf(args[1]).put((String) args[2], new ArrayList<>(values));
                return null;
            });
            answers.put("removeAttribute", args -> {
                attributesOf(args[1]).remove((String) args[2]);
                return null;
            });
            answers.put("getRequiredActionsStream", args -> {
                requiredActionReads.incrementAndGet();
                return List.copyOf(actionsOf(args[1])).stream();
            });
            answers.put("addRequiredAction", args -> {
                requiredActionWrites.add("add " + args[2]);
                actionsOf(args[1]).add((String) args[2]);
                return null;
            });
            answers.put("removeRequiredAction", args -> {
                requiredActionWrites.add("remove " + args[2]);
                actionsOf(args[1]).remove((String) args[2]);
                return null;
            });
            answers.put("getRoleMappingsStream", args -> grantsOf(args[1]).stream());
            answers.put("grantRole", args -> {
                grantsOf(args[1]).add((RoleModel) args[2]);
                return null;
            });
            answers.put("deleteRoleMapping", args -> {
                grantsOf(args[1]).remove((RoleModel) args[2]);
                return null;
            });
            provider = proxy(UserFederatedStorageProvider.class, "federated storage", answers);
        }

        /** Stores a credential of {@code type} for the user, as Keycloak's own credential provider would. */
        CredentialModel keep(String userId, String type, String credentialId) {
            CredentialModel credential = new CredentialModel();
            credential.setId(credentialId);
            credential.setType(type);
            credential.setSecretData("{\"value\":\"not-a-real-hash\"}");
            credentialsOf(userId).add(credential);
            return credential;
        }

        List<CredentialModel> credentialsOf(String userId) {
            return credentials.computeIfAbsent(userId, id -> new CopyOnWriteArrayList<>());
        }

        /** The user's credential manager, as far as the provider uses it: stored credentials only. */
        SubjectCredentialManager credentialManager(String userId) {
            Map<String, Function<Object[], Object>> answers = new HashMap<>();
            answers.put("getStoredCredentialsStream", args -> List.copyOf(credentialsOf(userId)).stream());
            answers.put("getStoredCredentialsByTypeStream", args -> List.copyOf(credentialsOf(userId)).stream()
                    .filter(c -> Objects.equals(c.getType(), args[0])));
            answers.put("removeStoredCredentialById", args -> {
                removedCredentials.add((String) args[0]);
                return credentialsOf(userId).removeIf(c -> Objects.equals(c.getId(), args[0]));
            });
            return proxy(SubjectCredentialManager.class, "credentials of " + userId, answers);
        }

        MultivaluedHashMap<String, String> attributesOf(Object userId) {
            return attributes.computeIfAbsent(Objects.toString(userId), id -> new MultivaluedHashMap<>());
        }

        Set<String> actionsOf(Object userId) {
            return requiredActions.computeIfAbsent(Objects.toString(userId), id -> new LinkedHashSet<>());
        }

        Set<RoleModel> grantsOf(Object userId) {
            return grants.computeIfAbsent(Objects.toString(userId), id -> new LinkedHashSet<>());
        }

        private static MultivaluedHashMap<String, String> copy(MultivaluedHashMap<String, String> source) {
            MultivaluedHashMap<String, String> copy = new MultivaluedHashMap<>();
            source.forEach((name, values) -> copy.put(name, new ArrayList<>(values)));
            return copy;
        }
    }

    /**
     * A session whose only services are the given federated storage and, through
     * {@code users()}, credential managers on top of it.
     */
    static KeycloakSession session(FederatedStorage storage) {
        UserProvider users = proxy(UserProvider.class, "user provider", Map.of("getUserCredentialManager",
                args -> storage.credentialManager(((UserModel) args[0]).getId())));
        return proxy(KeycloakSession.class, "session", Map.of(
                "getProvider", args -> args.length == 1 && args[0] == UserFederatedStorageProvider.class
                        ? storage.provider : null,
                "users", args -> users));
    }

    /**
     * A user as Keycloak's user cache hands it out: not the provider's adapter,
     * with its credentials in {@code storage}.
     */
    static CachedUserModel cachedUser(String id, String username, FederatedStorage storage) {
        Map<String, Function<Object[], Object>> answers = new HashMap<>();
        answers.put("getId", args -> id);
        answers.put("getUsername", args -> username);
        answers.put("credentialManager", args -> storage.credentialManager(id));
        return proxy(CachedUserModel.class, "cached user " + id, answers);
    }

    /**
     * Keycloak's session factory, as far as a background job sees it: each
     * session finds the given realms and a user cache that records evictions as
     * "realm id, user id, username, email" (or no user cache when it is off).
     */
    static final class Server {
        final Map<String, Realm> realms = new ConcurrentHashMap<>();
        final List<String> evictions = new CopyOnWriteArrayList<>();
        final List<ProviderEventListener> listeners = new CopyOnWriteArrayList<>();
        final AtomicInteger sessions = new AtomicInteger();
        volatile boolean userCacheEnabled = true;
        final KeycloakSessionFactory factory;
        /** Runs each job in a new session, as KeycloakModelUtils would (minus the transaction). */
        final SessionJobs jobs = task -> task.run(newSession());

        Server() {
            Map<String, Function<Object[], Object>> answers = new HashMap<>();
            answers.put("create", args -> newSession());
            answers.put("register", args -> listeners.add((ProviderEventListener) args[0]));
            answers.put("unregister", args -> listeners.remove((ProviderEventListener) args[0]));
            factory = proxy(KeycloakSessionFactory.class, "session factory", answers);
        }

        Realm addRealm(String name) {
            Realm realm = new Realm(name);
            realms.put(realm.model.getId(), realm);
            return realm;
        }

        private KeycloakSession newSession() {
            sessions.incrementAndGet();
            Map<String, Function<Object[], Object>> realmAnswers = new HashMap<>();
            realmAnswers.put("getRealm", args -> {
                Realm realm = realms.get((String) args[0]);
                return realm == null ? null : realm.model;
            });
            realmAnswers.put("getRealmsWithProviderTypeStream", args -> realms.values().stream().map(r -> r.model));
            RealmProvider realmProvider = proxy(RealmProvider.class, "realm provider", realmAnswers);
            UserCache cache = proxy(UserCache.class, "user cache", Map.of("evict", args -> {
                if (args.length == 2) {
                    RealmModel realm = (RealmModel) args[0];
                    UserModel user = (UserModel) args[1];
                    evictions.add(String.join(" ", realm.getId(), user.getId(), user.getUsername(),
                            String.valueOf(user.getEmail())));
                }
                return null;
            }));
            KeycloakTransactionManager transactions = proxy(KeycloakTransactionManager.class, "transactions", Map.of());
            Map<String, Function<Object[], Object>> answers = new HashMap<>();
            answers.put("realms", args -> realmProvider);
            answers.put("getTransactionManager", args -> transactions);
            answers.put("getProvider", args -> args.length == 1 && args[0] == UserCache.class && userCacheEnabled
                    ? cache : null);
            return proxy(KeycloakSession.class, "background session", answers);
        }
    }
}
