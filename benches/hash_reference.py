"""Reference implementations of the stored password values the gateway verifies.

benches/hash_schemes.rs times the gateway's verifiers against these, in the
same run, and uses them as a second opinion: every case must verify here too.

The references are the C code an application in another language would call:
  sha512-crypt, sha256-crypt, md5-crypt   libcrypt.so.1 crypt() through ctypes
                                          (glibc / libxcrypt)
  bcrypt, bcrypt_sha256_django,           the `bcrypt` package from PyPI (the
  bcrypt_peppered                         django one gets the hex SHA-256 of the
                                          password, the peppered one password+pepper)
  argon2i, argon2id                       `argon2-cffi` (the reference C library)
  pbkdf2_*                                hashlib.pbkdf2_hmac (OpenSSL)
  scrypt_werkzeug                         hashlib.scrypt (OpenSSL)
  scrypt_firebase                         hashlib.scrypt, then AES-256-CTR from
                                          the `cryptography` package (OpenSSL)
  md5, sha256, *_salted, ldap_*           one hashlib digest (OpenSSL)
  phpass, sha512_symfony                  a Python loop over hashlib.md5 /
                                          hashlib.sha512: each round is OpenSSL's
                                          C code, the loop around it is Python

Protocol: each line on stdin is one JSON request, answered by one JSON line on
stdout, so the benchmark can interleave its own measurements with these:
  {"op": "make", "cases": [{"scheme", "password", "params": {...}}, ...]}
      -> [{"stored": "..."}, ...]   values made with the references above
  {"op": "time", "cases": [{"scheme", "stored", "password", "wrong",
                            "pepper"?, "iterations", "warmup", "seconds"}, ...]}
      -> [{"valid", "wrong_valid", "median_us", "p95_us", "samples",
           "reference", "one_thread"?}, ...]
"time" verifies the right password `warmup` times untimed, then up to
`iterations` times timed (stopping early once `seconds` have passed and five
samples are in), and the wrong password once; `one_thread` (argon2 only) is
the same verification with the C library held to one thread.
A stored value in the gateway's `{CLERK:<hasher>}<digest>` form is read as its
digest.
"""

import base64
import ctypes
import hashlib
import hmac
import json
import os
import re
import sys
import time

import argon2.low_level as argon2_ll
import bcrypt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_LIBCRYPT = ctypes.CDLL("libcrypt.so.1")
_LIBCRYPT.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
_LIBCRYPT.crypt.restype = ctypes.c_char_p

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LDAP_DIGESTS = {
    "{SHA}": hashlib.sha1,
    "{SSHA}": hashlib.sha1,
    "{SSHA256}": hashlib.sha256,
    "{SSHA512}": hashlib.sha512,
}


def libcrypt(password, setting):
    out = _LIBCRYPT.crypt(password, setting.encode())
    return out.decode() if out else None


def b64decode(text):
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def b64encode(raw):
    return base64.b64encode(raw).decode()


def digest_of(stored):
    """The Clerk digest of `{CLERK:<hasher>}<digest>`, else the value itself."""
    match = re.match(r"\{CLERK:[^}]*\}", stored, re.IGNORECASE)
    return stored[match.end():] if match else stored


def equal(a, b):
    return hmac.compare_digest(a, b)


# ---------------------------------------------------------------- verifiers
# Each takes the stored value (and the pepper, if any) and returns a function
# of the password (bytes) that answers True or False: parsing happens once,
# outside the timed calls, as on the gateway's side.


def crypt_verifier(stored, _pepper):
    def verify(password):
        return equal(libcrypt(password, stored) or "", stored)

    return verify


def bcrypt_verifier(stored, _pepper):
    digest = digest_of(stored).encode()
    return lambda password: bcrypt.checkpw(password, digest)


def bcrypt_sha256_django_verifier(stored, _pepper):
    digest = digest_of(stored)
    assert digest.startswith("bcrypt_sha256$"), digest
    inner = digest[len("bcrypt_sha256$"):].encode()

    def verify(password):
        return bcrypt.checkpw(hashlib.sha256(password).hexdigest().encode(), inner)

    return verify


def bcrypt_peppered_verifier(stored, pepper):
    digest = digest_of(stored)
    inner = digest[:60].encode()
    if len(digest) > 60:
        assert digest[60] == "$", digest
        pepper = digest[61:].encode()
    pepper = pepper or b""
    return lambda password: bcrypt.checkpw(password + pepper, inner)


def argon2_type(digest):
    return argon2_ll.Type.ID if digest.startswith("$argon2id$") else argon2_ll.Type.I


def argon2_verifier(stored, _pepper):
    digest = digest_of(stored).encode()
    kind = argon2_type(digest.decode())

    def verify(password):
        try:
            return argon2_ll.verify_secret(digest, password, kind)
        except argon2_ll.VerifyMismatchError:
            return False

    return verify


def argon2_one_thread_verifier(stored, _pepper):
    """argon2_ctx with threads=1: what the C library costs without its threads
    (argon2_verify runs one thread per lane)."""
    digest = digest_of(stored)
    fields = digest.split("$")
    params = dict(item.split("=") for item in fields[-3].split(","))
    version = int(fields[2][2:]) if fields[2].startswith("v=") else 0x10
    salt, expected = b64decode(fields[-2]), b64decode(fields[-1])
    kind = argon2_type(digest)
    ffi, lib = argon2_ll.ffi, argon2_ll.lib

    def verify(password):
        out = ffi.new("uint8_t[]", len(expected))
        c_password = ffi.new("uint8_t[]", password)
        c_salt = ffi.new("uint8_t[]", salt)
        ctx = ffi.new(
            "argon2_context *",
            {
                "out": out,
                "outlen": len(expected),
                "pwd": c_password,
                "pwdlen": len(password),
                "salt": c_salt,
                "saltlen": len(salt),
                "secret": ffi.NULL,
                "secretlen": 0,
                "ad": ffi.NULL,
                "adlen": 0,
                "t_cost": int(params["t"]),
                "m_cost": int(params["m"]),
                "lanes": int(params["p"]),
                "threads": 1,
                "version": version,
                "allocate_cbk": ffi.NULL,
                "free_cbk": ffi.NULL,
                "flags": lib.ARGON2_DEFAULT_FLAGS,
            },
        )
        assert argon2_ll.core(ctx, kind.value) == lib.ARGON2_OK
        return equal(bytes(ffi.buffer(out, len(expected))), expected)

    return verify


def pbkdf2_verifier(scheme):
    return lambda stored, _pepper: pbkdf2_verify_function(scheme, digest_of(stored))


def pbkdf2_verify_function(scheme, digest):
    parts = digest.split("$")
    _label, iterations, salt_text, hash_text = parts[:4]
    iterations = int(iterations)
    if scheme == "pbkdf2_sha1":
        algorithm = "sha1"
        # Clerk: a salt that is valid hex is hex-decoded, else used as it is.
        try:
            salt = bytes.fromhex(salt_text)
        except ValueError:
            salt = salt_text.encode()
        expected = bytes.fromhex(hash_text)
        length = int(parts[4]) if len(parts) > 4 else len(expected)
    elif scheme == "pbkdf2_sha256_django":
        algorithm, salt, expected = "sha256", salt_text.encode(), b64decode(hash_text)
        length = len(expected)
    elif scheme == "pbkdf2_sha256":
        algorithm, salt, expected = "sha256", b64decode(salt_text), b64decode(hash_text)
        length = len(expected)
    elif scheme == "pbkdf2_sha512":
        algorithm, salt, expected = "sha512", salt_text.encode(), bytes.fromhex(hash_text)
        length = len(expected)
    elif scheme == "pbkdf2_sha512_hex":
        algorithm, salt = "sha512", bytes.fromhex(salt_text)
        expected = bytes.fromhex(hash_text)
        length = len(expected)
    else:
        raise ValueError(f"not a pbkdf2 digest: {digest}")

    def verify(password):
        return equal(hashlib.pbkdf2_hmac(algorithm, password, salt, iterations, length), expected)

    return verify


def phpass_verifier(stored, _pepper):
    digest = digest_of(stored)
    rounds = 1 << ITOA64.index(digest[3])
    salt = digest[4:12].encode()

    def verify(password):
        state = hashlib.md5(salt + password).digest()
        for _ in range(rounds):
            state = hashlib.md5(state + password).digest()
        return equal(digest[:12] + phpass_encode(state), digest)

    return verify


def phpass_encode(raw):
    """phpass's encode64: little-endian groups of three bytes, six bits a char."""
    out = []
    i = 0
    while i < len(raw):
        value = raw[i]
        i += 1
        out.append(ITOA64[value & 0x3F])
        if i < len(raw):
            value |= raw[i] << 8
        out.append(ITOA64[(value >> 6) & 0x3F])
        if i >= len(raw):
            break
        i += 1
        if i < len(raw):
            value |= raw[i] << 16
        out.append(ITOA64[(value >> 12) & 0x3F])
        if i >= len(raw):
            break
        i += 1
        out.append(ITOA64[(value >> 18) & 0x3F])
    return "".join(out)


def scrypt_firebase_verifier(stored, _pepper):
    hash_b64, salt_b64, signer_b64, separator_b64, rounds, mem_cost = digest_of(stored).split("$")
    salt = b64decode(salt_b64) + b64decode(separator_b64)
    signer_key, expected = b64decode(signer_b64), b64decode(hash_b64)
    n, r = 1 << int(mem_cost), int(rounds)

    def verify(password):
        key = hashlib.scrypt(password, salt=salt, n=n, r=r, p=1, dklen=32, maxmem=132 * n * r)
        encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        return equal(encryptor.update(signer_key) + encryptor.finalize(), expected)

    return verify


def scrypt_werkzeug_verifier(stored, _pepper):
    method, salt, hash_hex = digest_of(stored).split("$")
    _, n, r, p = method.split(":")
    n, r, p = int(n), int(r), int(p)
    expected = bytes.fromhex(hash_hex)

    def verify(password):
        key = hashlib.scrypt(
            password, salt=salt.encode(), n=n, r=r, p=p, dklen=len(expected), maxmem=132 * n * r * p
        )
        return equal(key, expected)

    return verify


def ldap_verifier(stored, _pepper):
    digest = digest_of(stored)
    label = digest[: digest.index("}") + 1].upper()
    algorithm = LDAP_DIGESTS[label]
    raw = b64decode(digest[len(label):])
    size = algorithm().digest_size
    expected, salt = raw[:size], raw[size:]
    return lambda password: equal(algorithm(password + salt).digest(), expected)


def sha512_symfony_verifier(stored, _pepper):
    _, iterations, salt, hash_b64 = digest_of(stored).split("$")
    iterations, expected = int(iterations), b64decode(hash_b64)

    def verify(password):
        salted = password + b"{" + salt.encode() + b"}" if salt else password
        state = hashlib.sha512(salted).digest()
        for _ in range(1, iterations):
            state = hashlib.sha512(state + salted).digest()
        return equal(state, expected)

    return verify


def plain_verifier(algorithm, salted):
    def make(stored, _pepper):
        digest = digest_of(stored)
        salt, hex_digest = digest.rsplit("$", 1) if salted else ("", digest)
        expected = bytes.fromhex(hex_digest)
        salt = salt.encode()
        return lambda password: equal(algorithm(password + salt).digest(), expected)

    return make


VERIFIERS = {
    "sha512-crypt": crypt_verifier,
    "sha256-crypt": crypt_verifier,
    "md5-crypt": crypt_verifier,
    "bcrypt": bcrypt_verifier,
    "bcrypt_sha256_django": bcrypt_sha256_django_verifier,
    "bcrypt_peppered": bcrypt_peppered_verifier,
    "argon2i": argon2_verifier,
    "argon2id": argon2_verifier,
    "pbkdf2_sha1": pbkdf2_verifier("pbkdf2_sha1"),
    "pbkdf2_sha256": pbkdf2_verifier("pbkdf2_sha256"),
    "pbkdf2_sha256_django": pbkdf2_verifier("pbkdf2_sha256_django"),
    "pbkdf2_sha512": pbkdf2_verifier("pbkdf2_sha512"),
    "pbkdf2_sha512_hex": pbkdf2_verifier("pbkdf2_sha512_hex"),
    "phpass": phpass_verifier,
    "scrypt_firebase": scrypt_firebase_verifier,
    "scrypt_werkzeug": scrypt_werkzeug_verifier,
    "ldap_sha": ldap_verifier,
    "ldap_ssha": ldap_verifier,
    "ldap_ssha256": ldap_verifier,
    "ldap_ssha512": ldap_verifier,
    "sha512_symfony": sha512_symfony_verifier,
    "md5": plain_verifier(hashlib.md5, salted=False),
    "md5_salted": plain_verifier(hashlib.md5, salted=True),
    "sha256": plain_verifier(hashlib.sha256, salted=False),
    "sha256_salted": plain_verifier(hashlib.sha256, salted=True),
}

REFERENCE_NAMES = {
    "bcrypt": f"bcrypt {bcrypt.__version__}",
    "argon2": "argon2-cffi (libargon2)",
    "pbkdf2": "hashlib.pbkdf2_hmac (OpenSSL)",
    "phpass": "Python loop of hashlib.md5",
    "scrypt_firebase": "hashlib.scrypt + cryptography AES-CTR",
    "scrypt_werkzeug": "hashlib.scrypt (OpenSSL)",
    "sha512_symfony": "Python loop of hashlib.sha512",
}


def reference_name(scheme):
    if scheme.endswith("-crypt"):
        return "libcrypt crypt()"
    for prefix, name in REFERENCE_NAMES.items():
        if scheme.startswith(prefix):
            return name
    return "hashlib (OpenSSL)"


# ---------------------------------------------------------------- makers


def salt_text(length):
    """Random salt characters from the crypt alphabet (valid in every form)."""
    return "".join(ITOA64[b % 64] for b in os.urandom(length))


def make(scheme, password, params):
    """A stored value in the gateway's syntax, made by the references."""
    pw = password.encode()
    if scheme in ("sha512-crypt", "sha256-crypt"):
        prefix = "$6$" if scheme == "sha512-crypt" else "$5$"
        rounds = params.get("rounds", 5000)
        setting = prefix + (f"rounds={rounds}$" if rounds != 5000 else "") + salt_text(16)
        return libcrypt(pw, setting)
    if scheme == "md5-crypt":
        return libcrypt(pw, "$1$" + salt_text(8))
    if scheme == "bcrypt":
        return bcrypt.hashpw(pw, bcrypt.gensalt(params["cost"])).decode()
    if scheme == "bcrypt_sha256_django":
        inner = bcrypt.hashpw(hashlib.sha256(pw).hexdigest().encode(), bcrypt.gensalt(params["cost"]))
        return "{CLERK:bcrypt_sha256_django}bcrypt_sha256$" + inner.decode()
    if scheme == "bcrypt_peppered":
        pepper = params["pepper"]
        inner = bcrypt.hashpw(pw + pepper.encode(), bcrypt.gensalt(params["cost"])).decode()
        return "{CLERK:bcrypt_peppered}" + inner + "$" + pepper
    if scheme in ("argon2i", "argon2id"):
        kind = argon2_ll.Type.ID if scheme == "argon2id" else argon2_ll.Type.I
        return argon2_ll.hash_secret(
            pw, os.urandom(16), params["t"], params["m"], params["p"], 32, kind
        ).decode()
    if scheme.startswith("pbkdf2_"):
        return make_pbkdf2(scheme, pw, params["iterations"])
    if scheme == "phpass":
        count_log2 = params.get("count_log2", 13)
        head = "$P$" + ITOA64[count_log2] + salt_text(8)
        salt = head[4:12].encode()
        state = hashlib.md5(salt + pw).digest()
        for _ in range(1 << count_log2):
            state = hashlib.md5(state + pw).digest()
        return head + phpass_encode(state)
    if scheme == "scrypt_firebase":
        salt, separator, signer = os.urandom(16), b"\x07", os.urandom(64)
        n, r = 1 << params["mem_cost"], params["r"]
        key = hashlib.scrypt(pw, salt=salt + separator, n=n, r=r, p=1, dklen=32, maxmem=132 * n * r)
        encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        encrypted = encryptor.update(signer) + encryptor.finalize()
        fields = [b64encode(encrypted), b64encode(salt), b64encode(signer), b64encode(separator)]
        return "{CLERK:scrypt_firebase}" + "$".join(fields + [str(r), str(params["mem_cost"])])
    if scheme == "scrypt_werkzeug":
        n, r, p = params["n"], params["r"], params["p"]
        salt = salt_text(16)
        key = hashlib.scrypt(pw, salt=salt.encode(), n=n, r=r, p=p, dklen=64, maxmem=132 * n * r * p)
        return f"{{CLERK:scrypt_werkzeug}}scrypt:{n}:{r}:{p}${salt}${key.hex()}"
    if scheme.startswith("ldap_"):
        label = {"ldap_sha": "{SHA}", "ldap_ssha": "{SSHA}", "ldap_ssha256": "{SSHA256}",
                 "ldap_ssha512": "{SSHA512}"}[scheme]
        salt = b"" if label == "{SHA}" else os.urandom(8)
        return label + b64encode(LDAP_DIGESTS[label](pw + salt).digest() + salt)
    if scheme == "sha512_symfony":
        iterations, salt = params.get("iterations", 5000), salt_text(16)
        salted = pw + b"{" + salt.encode() + b"}"
        state = hashlib.sha512(salted).digest()
        for _ in range(1, iterations):
            state = hashlib.sha512(state + salted).digest()
        return f"{{CLERK:sha512_symfony}}sha512_symfony${iterations}${salt}${b64encode(state)}"
    if scheme in ("md5", "sha256"):
        return f"{{CLERK:{scheme}}}" + hashlib.new(scheme, pw).hexdigest()
    if scheme in ("md5_salted", "sha256_salted"):
        salt = salt_text(12)
        hex_digest = hashlib.new(scheme.split("_")[0], pw + salt.encode()).hexdigest()
        return f"{{CLERK:{scheme}}}{salt}${hex_digest}"
    raise ValueError(f"no maker for {scheme}")


def make_pbkdf2(scheme, pw, iterations):
    if scheme == "pbkdf2_sha1":
        salt = os.urandom(16)
        key = hashlib.pbkdf2_hmac("sha1", pw, salt, iterations, 20)
        digest = f"pbkdf2_sha1${iterations}${salt.hex()}${key.hex()}"
    elif scheme == "pbkdf2_sha256":
        salt = os.urandom(16)
        key = hashlib.pbkdf2_hmac("sha256", pw, salt, iterations, 32)
        digest = f"pbkdf2_sha256${iterations}${b64encode(salt)}${b64encode(key)}"
    elif scheme == "pbkdf2_sha256_django":
        salt = salt_text(22).replace(".", "x").replace("/", "y")
        key = hashlib.pbkdf2_hmac("sha256", pw, salt.encode(), iterations, 32)
        digest = f"pbkdf2_sha256${iterations}${salt}${b64encode(key)}"
    elif scheme == "pbkdf2_sha512":
        salt = salt_text(16).replace(".", "x").replace("/", "y")
        key = hashlib.pbkdf2_hmac("sha512", pw, salt.encode(), iterations, 64)
        digest = f"pbkdf2_sha512${iterations}${salt}${key.hex()}"
    elif scheme == "pbkdf2_sha512_hex":
        salt = os.urandom(16)
        key = hashlib.pbkdf2_hmac("sha512", pw, salt, iterations, 64)
        digest = f"pbkdf2_sha512_hex${iterations}${salt.hex()}${key.hex()}"
    else:
        raise ValueError(f"no maker for {scheme}")
    return f"{{CLERK:{scheme}}}{digest}"


# ---------------------------------------------------------------- timing


def percentile(sorted_samples, quantile):
    """Nearest rank, as tests/support/bench.rs computes it."""
    rank = -(-len(sorted_samples) * quantile // 1)
    return sorted_samples[min(max(int(rank), 1), len(sorted_samples)) - 1]


def timed(verify, password, case):
    # "warmup_seconds" (0.2 in a real run): warm-up lasts at least this long
    # too, so that a cheap scheme's first timed call does not meet a cold
    # cache or a core that has not clocked up.
    least = case.get("warmup_seconds", 0.0)
    warm_started = time.perf_counter()
    done = 0
    while done < case["warmup"] or time.perf_counter() - warm_started < least:
        verify(password)
        done += 1
    samples = []
    started = time.perf_counter()
    for _ in range(case["iterations"]):
        begin = time.perf_counter_ns()
        verify(password)
        samples.append((time.perf_counter_ns() - begin) / 1e3)
        if len(samples) >= 5 and time.perf_counter() - started > case["seconds"]:
            break
    samples.sort()
    return {"median_us": percentile(samples, 0.5), "p95_us": percentile(samples, 0.95),
            "samples": len(samples)}


def time_case(case):
    scheme, stored = case["scheme"], case["stored"]
    pepper = case.get("pepper")
    pepper = pepper.encode() if pepper is not None else None
    verify = VERIFIERS[scheme](stored, pepper)
    password, wrong = case["password"].encode(), case["wrong"].encode()
    result = {"valid": bool(verify(password)), "wrong_valid": bool(verify(wrong)),
              "reference": reference_name(scheme)}
    result.update(timed(verify, password, case))
    if scheme.startswith("argon2"):
        one_thread = argon2_one_thread_verifier(stored, pepper)
        assert one_thread(password) and not one_thread(wrong)
        result["one_thread"] = timed(one_thread, password, case)
    return result


def answer(request):
    if request["op"] == "make":
        return [{"stored": make(c["scheme"], c["password"], c.get("params", {}))}
                for c in request["cases"]]
    if request["op"] == "time":
        return [time_case(case) for case in request["cases"]]
    raise ValueError(f"unknown op {request['op']!r}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(json.loads(line))
        except Exception as error:  # the benchmark prints it and fails
            reply = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
