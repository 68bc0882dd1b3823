package org.userstoregateway.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class MissingRoleWarningsTest {

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final List<String> lines = new ArrayList<>();
    private final MissingRoleWarnings warnings = new MissingRoleWarnings(Duration.ofMinutes(10), now::get, lines::add);

    @Test
    void realmRoleMissing_sameRoleWithinInterval_warnsOnce() {
        warnings.realmRoleMissing("test", "mmustermann", "ghost");
        now.addAndGet(Duration.ofMinutes(9).toMillis());
        warnings.realmRoleMissing("test", "emusterfrau", "ghost");

        assertEquals(List.of("userstore-gateway: user 'mmustermann' has realm role 'ghost' in the user database,"
                + " but realm 'test' has no such role; the role is skipped"), lines);
    }

    @Test
    void realmRoleMissing_afterTheInterval_warnsAgain() {
        warnings.realmRoleMissing("test", "mmustermann", "ghost");
        now.addAndGet(Duration.ofMinutes(10).toMillis());
        warnings.realmRoleMissing("test", "mmustermann", "ghost");

        assertEquals(2, lines.size());
    }

    @Test
    void warnings_differentRealmClientOrRole_areCountedSeparately() {
        warnings.realmRoleMissing("test", "u", "ghost");
        warnings.realmRoleMissing("other", "u", "ghost");
        warnings.realmRoleMissing("test", "u", "phantom");
        warnings.clientRoleMissing("test", "u", "app", "ghost");
        warnings.clientRoleMissing("test", "u", "app", "ghost");
        warnings.clientMissing("test", "u", "gone", "admin");
        warnings.clientMissing("test", "u", "gone", "admin");

        assertEquals(5, lines.size());
    }

    @Test
    void clientWarnings_always_nameUserClientAndRole() {
        warnings.clientMissing("test", "mmustermann", "gone", "admin");
        warnings.clientRoleMissing("test", "mmustermann", "testclient", "ghost");

        assertEquals("userstore-gateway: user 'mmustermann' has role 'admin' of client 'gone' in the user database,"
                + " but realm 'test' has no client with that clientId; the role is skipped", lines.get(0));
        assertEquals("userstore-gateway: user 'mmustermann' has role 'ghost' of client 'testclient' in the user"
                + " database, but that client in realm 'test' has no such role; the role is skipped", lines.get(1));
    }
}
