#!/usr/bin/env python3
"""Where a login's CPU goes, from the profiles `keycloak_logins` records.

    python3 benches/profile_breakdown.py jfr target/bench/keycloak_logins-a-grant.jfr ...
    python3 benches/profile_breakdown.py perf target/bench/keycloak_logins-gateway-a-grant.perf.data ...

`jfr`: Keycloak's JVM, from JDK Flight Recorder's execution samples (Java
code only; GC and JIT threads are not sampled). Each sample goes to the
first category below whose marker is anywhere on its stack, so a category
holds everything beneath it: "federated storage" includes the Hibernate and
H2 work it caused. `perf`: the gateway, by the function the sample landed
in (release builds have no frame pointers, so stacks are not complete).

Prints, per file, each category's share of the samples; `--per-login MS`
also turns the shares into milliseconds of a login that cost MS.
"""

import argparse
import collections
import json
import subprocess
import sys

# (category, markers): a marker is a prefix of "class.method" (Java) or a
# substring of the symbol (perf). First match wins, in this order.
JAVA = [
    ("provider: gateway HTTP call", ["org.userstoregateway.keycloak.GatewayClient.send",
                                     "jdk.internal.net.http."]),
    ("provider: JSON", ["org.userstoregateway.keycloak.GatewayClient.read",
                        "org.userstoregateway.keycloak.GatewayClient.verifyPassword"]),
    ("Keycloak federated storage (JPA)", ["org.keycloak.storage.jpa.JpaUserFederatedStorageProvider",
                                          "org.keycloak.storage.federated."]),
    ("Keycloak's local lookup before the provider", ["org.keycloak.models.jpa.JpaUserProvider"]),
    ("password hashing in Keycloak", ["org.keycloak.credential.hash.", "org.bouncycastle.crypto.generators.Argon2",
                                      "com.sun.crypto.provider.PBKDF2"]),
    ("provider: other", ["org.userstoregateway."]),
    ("Keycloak LDAP federation", ["org.keycloak.storage.ldap.", "com.sun.jndi.ldap."]),
    ("Keycloak user cache", ["org.keycloak.models.cache.infinispan.UserCacheSession",
                             "org.keycloak.models.cache.infinispan.UserAdapter",
                             "org.keycloak.models.cache.infinispan.entities.CachedUser"]),
    ("tokens: build and sign", ["org.keycloak.protocol.oidc.TokenManager", "org.keycloak.jose.",
                                "org.keycloak.crypto.", "org.keycloak.protocol.oidc.mappers.",
                                "sun.security.rsa.", "sun.security.ec."]),
    ("login page (FreeMarker, themes)", ["freemarker.", "org.keycloak.theme.", "org.keycloak.forms."]),
    ("sessions (user, client, authentication)", ["org.keycloak.models.sessions.infinispan.",
                                                 "org.keycloak.models.jpa.session.",
                                                 "org.keycloak.sessions."]),
    ("other JPA / database", ["org.hibernate.", "org.h2.", "io.agroal.", "org.postgresql."]),
    ("authentication flow, other", ["org.keycloak.authentication."]),
    ("HTTP server and JAX-RS", ["io.vertx.", "io.netty.", "org.jboss.resteasy.", "io.quarkus."]),
    ("logging", ["org.jboss.logmanager.", "org.jboss.logging."]),
]

# Gateway symbols (perf), by the leaf function.
NATIVE = [
    ("hash (sha512-crypt)", ["sha_crypt", "sha2::", "sha512", "Sha512"]),
    ("JSON", ["serde_json", "serde::"]),
    ("database driver (sqlx)", ["sqlx", "postgres"]),
    ("tracing and metrics", ["tracing", "metrics"]),
    ("HTTP (hyper, axum, tower)", ["hyper", "axum", "tower", "http::"]),
    ("async runtime (tokio)", ["tokio"]),
    ("memory (malloc, memcpy)", ["malloc", "free", "memcpy", "memmove", "realloc", "_int_", "memset"]),
    ("kernel (syscalls, network)", ["[kernel", "kernel.kallsyms"]),
]


def classify(frames, table, contains):
    for category, markers in table:
        for frame in frames:
            if any((m in frame) if contains else frame.startswith(m) for m in markers):
                return category
    return "other"


def jfr_samples(path):
    """(thread name, [class.method, ...] leaf first) per execution sample."""
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "256", "--events",
                          "jdk.ExecutionSample", path], check=True, capture_output=True, text=True).stdout
    for event in json.loads(out)["recording"]["events"]:
        values = event["values"]
        thread = (values.get("sampledThread") or {}).get("javaName") or ""
        frames = []
        for frame in ((values.get("stackTrace") or {}).get("frames") or []):
            method = frame.get("method") or {}
            owner = (method.get("type") or {}).get("name") or ""
            frames.append(owner.replace("/", ".") + "." + (method.get("name") or ""))
        yield thread, frames


def perf_samples(path):
    """("", [leaf symbol]) per sample of `perf script`."""
    out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line:
            # "addr symbol+0x.. (dso)": keep symbol and dso, the leaf only.
            yield "", [line.split(None, 1)[-1]]


def breakdown(path, kind):
    counts = collections.Counter()
    if kind == "jfr":
        for thread, frames in jfr_samples(path):
            if thread.startswith("HttpClient-"):
                counts["provider: gateway HTTP call"] += 1
            else:
                counts[classify(frames, JAVA, contains=False)] += 1
    else:
        for _, frames in perf_samples(path):
            counts[classify(frames, NATIVE, contains=True)] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["jfr", "perf"])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--per-login", type=float, help="CPU ms of one login, to turn shares into ms")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    results = {}
    for path in args.files:
        counts = breakdown(path, args.kind)
        total = sum(counts.values()) or 1
        results[path] = {"samples": total, "shares": {k: v / total for k, v in counts.most_common()}}
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    for path, result in results.items():
        print(f"{path}: {result['samples']} samples")
        for category, share in result["shares"].items():
            ms = f"  {share * args.per_login:6.2f} ms" if args.per_login else ""
            print(f"  {share * 100:5.1f} %{ms}  {category}")


if __name__ == "__main__":
    main()
