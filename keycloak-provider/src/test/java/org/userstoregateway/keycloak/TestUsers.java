package org.userstoregateway.keycloak;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** User JSON as the gateway sends it. */
final class TestUsers {

    static final String MAX = """
            {"id":"1","username":"mmustermann","email":"m.mustermann@example.test",
             "firstName":"Max","lastName":"Mustermann","enabled":true,"emailVerified":false,
             "createdTimestamp":1700000000000,"attributes":{"phone":["+49 30 1234567"]},
             "realmRoles":["testrole"],"clientRoles":{"testclient":["admin"]},
             "someFutureField":{"ignored":true}}
            """;

    static final String SPARSE = """
            {"id":"7","username":"nobody","email":null,"firstName":null,"lastName":null,
             "enabled":true,"emailVerified":false,"createdTimestamp":null,"attributes":{},
             "realmRoles":[],"clientRoles":{}}
            """;

    /** A user whose row has no usable password hash (NULL in the database), as a current gateway says. */
    static final String BOB = """
            {"id":"5","username":"bob","email":"bob@example.test","firstName":"Bob","lastName":"Nohash",
             "enabled":true,"emailVerified":false,"createdTimestamp":1700000000005,"attributes":{},
             "realmRoles":[],"clientRoles":{},"hasUsablePassword":false}
            """;

    /** {@link #BOB} after a DBA gave the row a hash. */
    static final String BOB_WITH_HASH = BOB.replace("\"hasUsablePassword\":false", "\"hasUsablePassword\":true");

    private TestUsers() {
    }

    /** A minimal user numbered {@code n}: id "n", username "user" + zero-padded n. */
    static String numbered(int n) {
        return String.format("{\"id\":\"%d\",\"username\":\"user%04d\",\"email\":\"user%04d@example.test\","
                + "\"firstName\":\"First%d\",\"lastName\":\"Last%d\",\"enabled\":%s,\"emailVerified\":false,"
                + "\"createdTimestamp\":null,\"attributes\":{},\"realmRoles\":[],\"clientRoles\":{}}",
                n, n, n, n, n, n % 2 == 0);
    }

    static String userList(List<String> users) {
        return "{\"users\":[" + String.join(",", users) + "]}";
    }

    /** Users {@code from} (inclusive) to {@code to} (exclusive) as a search answer. */
    static String userList(int from, int to) {
        return userList(IntStream.range(from, to).mapToObj(TestUsers::numbered).collect(Collectors.toList()));
    }
}
