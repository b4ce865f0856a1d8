#!/usr/bin/env python3
"""Generates password-vectors.json: Keycloak-shaped password credentials computed by an
implementation independent of ours (Python's hashlib for PBKDF2, argon2-cffi, which wraps the
reference C implementation, for argon2).

Each case is {name, password, secretData, credentialData, expect}: `expect` tells whether
`password` verifies against the credential, as computed here by the independent
implementation (never assumed). Salts are derived from the case name, so running this again
gives the same file byte for byte.

Note that under PBKDF2 (as in any HMAC) a password and the same password followed by NUL
characters are equivalent while they fit in one hash block; Keycloak itself relies on that
when it pads short passwords. The vectors record it.

    python3 -m venv /tmp/pwvenv && /tmp/pwvenv/bin/pip install argon2-cffi
    /tmp/pwvenv/bin/python crates/model/tests/data/gen_password_vectors.py
"""

import base64
import hashlib
import json
import pathlib

from argon2.low_level import Type, hash_secret_raw

OUT = pathlib.Path(__file__).with_name("password-vectors.json")

UNICODE = "pässwörd-日本"
# The same text with "ä" and "ö" decomposed (NFD): a different password, since neither side
# normalises.
UNICODE_NFD = "pa\u0308sswo\u0308rd-日本"
# 100 characters, 200 UTF-8 bytes: longer than every HMAC block, so the key gets hashed first.
LONG = ("ü日a" * 34)[:100]
assert len(LONG) == 100

ARGON2_TYPES = {"id": Type.ID, "i": Type.I, "d": Type.D}
ARGON2_VERSIONS = {"1.3": 0x13, "1.0": 0x10}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def salt_for(name: str, length: int = 16) -> bytes:
    return hashlib.sha256(f"portcullis password vector {name}".encode()).digest()[:length]


def compact(value) -> str:
    # Keycloak's Jackson output: no spaces, keys in insertion order, "/" not escaped.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def secret_data(hash_bytes: bytes, salt: bytes) -> str:
    return compact({"value": b64(hash_bytes), "salt": b64(salt), "additionalParameters": {}})


def argon2(name, password, *, variant="id", version="1.3", memory=7168, iterations=5,
           parallelism=1, hash_length=32):
    salt = salt_for(name)
    raw = hash_secret_raw(password.encode("utf-8"), salt, time_cost=iterations,
                          memory_cost=memory, parallelism=parallelism, hash_len=hash_length,
                          type=ARGON2_TYPES[variant], version=ARGON2_VERSIONS[version])
    credential = compact({
        "hashIterations": iterations,
        "algorithm": "argon2",
        "additionalParameters": {
            "hashLength": [str(hash_length)],
            "memory": [str(memory)],
            "type": [variant],
            "version": [version],
            "parallelism": [str(parallelism)],
        },
    })

    def verifies(candidate: str) -> bool:
        return hash_secret_raw(candidate.encode("utf-8"), salt, time_cost=iterations,
                               memory_cost=memory, parallelism=parallelism,
                               hash_len=hash_length, type=ARGON2_TYPES[variant],
                               version=ARGON2_VERSIONS[version]) == raw

    return secret_data(raw, salt), credential, verifies


PBKDF2_DIGESTS = {"pbkdf2-sha256": "sha256", "pbkdf2-sha512": "sha512", "pbkdf2": "sha1"}


def keycloak_pbkdf2_input(password: str) -> bytes:
    # Keycloak pads passwords shorter than 14 UTF-16 units with NUL characters.
    units = len(password.encode("utf-16-le")) // 2
    return (password + "\0" * max(0, 14 - units)).encode("utf-8")


def pbkdf2(name, password, *, algorithm, iterations, key_length):
    salt = salt_for(name)
    digest = PBKDF2_DIGESTS[algorithm]
    derived = hashlib.pbkdf2_hmac(digest, keycloak_pbkdf2_input(password), salt, iterations,
                                  key_length)
    # The padding must not matter (HMAC zero-pads keys to the block size); we verify unpadded.
    assert derived == hashlib.pbkdf2_hmac(digest, password.encode("utf-8"), salt, iterations,
                                          key_length), name
    credential = compact({"hashIterations": iterations, "algorithm": algorithm,
                          "additionalParameters": {}})

    def verifies(candidate: str) -> bool:
        return hashlib.pbkdf2_hmac(digest, keycloak_pbkdf2_input(candidate), salt, iterations,
                                   key_length) == derived

    return secret_data(derived, salt), credential, verifies


cases = []


def case(name, password, stored, *wrong_passwords, equivalent=()):
    """The right password, others that must fail, and others that must pass."""
    secret, credential, verifies = stored
    others = [(p, False, "wrong") for p in wrong_passwords]
    others += [(p, True, "equivalent") for p in equivalent]
    assert verifies(password), name
    cases.append({"name": name, "password": password, "secretData": secret,
                  "credentialData": credential, "expect": True})
    for index, (other, expect, kind) in enumerate(others, 1):
        assert verifies(other) == expect, (name, other)
        cases.append({"name": f"{name} / {kind} password {index}", "password": other,
                      "secretData": secret, "credentialData": credential, "expect": expect})


# argon2: Keycloak 25+ defaults, then the other types, versions and shapes.
case("argon2id, Keycloak defaults", "correct horse battery staple",
     argon2("argon2id-default", "correct horse battery staple"),
     "correct horse battery staplE", "correct horse battery staple ", "")
case("argon2i, m=4096 t=3 p=2", "argon2i password",
     argon2("argon2i", "argon2i password", variant="i", memory=4096, iterations=3,
            parallelism=2),
     "argon2i passwore")
case("argon2d, m=8192 t=2, 64-byte hash", "argon2d password",
     argon2("argon2d", "argon2d password", variant="d", memory=8192, iterations=2,
            hash_length=64),
     "Argon2d password")
case("argon2id version 1.0", "old version",
     argon2("argon2id-v10", "old version", version="1.0"),
     "old Version")
case("argon2i version 1.0, p=4, 16-byte hash", "old argon2i",
     argon2("argon2i-v10", "old argon2i", variant="i", version="1.0", memory=1024,
            iterations=1, parallelism=4, hash_length=16),
     "old argon2")
case("argon2id, Unicode password", UNICODE, argon2("argon2id-unicode", UNICODE),
     UNICODE_NFD, "passwort-日本")
case("argon2id, 100-character password", LONG, argon2("argon2id-long", LONG), LONG[:99])
case("argon2id, empty password", "", argon2("argon2id-empty", ""), " ", "\0")

# PBKDF2-HMAC-SHA-256: Keycloak <= 23 (27,500 iterations, 64-byte key), then 24+ (600,000, 32).
case("pbkdf2-sha256, Keycloak 23 style", "keycloak 23 password",
     pbkdf2("pbkdf2-sha256-kc23", "keycloak 23 password", algorithm="pbkdf2-sha256",
            iterations=27500, key_length=64),
     "keycloak 23 Password", equivalent=["keycloak 23 password\0"])
case("pbkdf2-sha256, Keycloak 24 default", "keycloak 24 password",
     pbkdf2("pbkdf2-sha256-kc24", "keycloak 24 password", algorithm="pbkdf2-sha256",
            iterations=600000, key_length=32))
case("pbkdf2-sha256, Unicode password", UNICODE,
     pbkdf2("pbkdf2-sha256-unicode", UNICODE, algorithm="pbkdf2-sha256", iterations=27500,
            key_length=64),
     UNICODE_NFD)
case("pbkdf2-sha256, 100-character password", LONG,
     pbkdf2("pbkdf2-sha256-long", LONG, algorithm="pbkdf2-sha256", iterations=27500,
            key_length=64),
     LONG + "!")
case("pbkdf2-sha256, empty password", "",
     pbkdf2("pbkdf2-sha256-empty", "", algorithm="pbkdf2-sha256", iterations=27500,
            key_length=64),
     "a", equivalent=["\0"])
case("pbkdf2-sha256, 13-character password (padded by Keycloak)", "thirteen-char",
     pbkdf2("pbkdf2-sha256-13", "thirteen-char", algorithm="pbkdf2-sha256", iterations=1000,
            key_length=32),
     "thirteen-cha", equivalent=["thirteen-char\0"])

# PBKDF2-HMAC-SHA-512: Keycloak 24's default.
case("pbkdf2-sha512, Keycloak 24 default", "keycloak 24 sha512",
     pbkdf2("pbkdf2-sha512-kc24", "keycloak 24 sha512", algorithm="pbkdf2-sha512",
            iterations=210000, key_length=64),
     "keycloak 24 sha513")
case("pbkdf2-sha512, 100-character password", LONG,
     pbkdf2("pbkdf2-sha512-long", LONG, algorithm="pbkdf2-sha512", iterations=10000,
            key_length=64),
     LONG[1:])
case("pbkdf2-sha512, Unicode password", UNICODE,
     pbkdf2("pbkdf2-sha512-unicode", UNICODE, algorithm="pbkdf2-sha512", iterations=10000,
            key_length=64),
     UNICODE_NFD)

# PBKDF2-HMAC-SHA-1 (`pbkdf2`, deprecated): verification only.
case("pbkdf2 (sha1), 27500 iterations", "legacy sha1 password",
     pbkdf2("pbkdf2-sha1", "legacy sha1 password", algorithm="pbkdf2", iterations=27500,
            key_length=64),
     "legacy sha1 passwor")
case("pbkdf2 (sha1), Unicode password", UNICODE,
     pbkdf2("pbkdf2-sha1-unicode", UNICODE, algorithm="pbkdf2", iterations=1000,
            key_length=64),
     UNICODE_NFD)
case("pbkdf2 (sha1), 100-character password", LONG,
     pbkdf2("pbkdf2-sha1-long", LONG, algorithm="pbkdf2", iterations=1000, key_length=64),
     LONG.upper())
case("pbkdf2 (sha1), empty password", "",
     pbkdf2("pbkdf2-sha1-empty", "", algorithm="pbkdf2", iterations=1000, key_length=20),
     " ")

OUT.write_text(json.dumps(cases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(f"wrote {len(cases)} cases to {OUT}")
