#!/usr/bin/env python3
"""Write a realm file with many users carrying pre-hashed password credentials.

Every user gets the same real, Keycloak-shaped password hash (secretData/credentialData), so
an import of the file measures parsing, validation and storage, not password hashing. The
hash is the first verifying argon2 case of crates/model/tests/data/password-vectors.json
(computed by argon2-cffi, independent of Portcullis); when that file is missing, a
pbkdf2-sha512 hash is computed here with hashlib (Keycloak's parameters).

Users: a username, email, first and last name, one attribute, one realm role and one group
each (ten groups, two of them nested), enabled and email-verified.

    bench/gen_users.py OUT.json [--users 100000] [--realm bench]

The file is written as a stream: memory stays small whatever the number of users.
"""

import argparse
import base64
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "crates/model/tests/data/password-vectors.json"


def real_hash():
    """(secretData, credentialData, where it came from) of one real password hash."""
    if VECTORS.is_file():
        for case in json.loads(VECTORS.read_text()):
            if case["expect"] and '"algorithm":"argon2"' in case["credentialData"]:
                return case["secretData"], case["credentialData"], f"{VECTORS.name}: {case['name']}"
    salt = hashlib.sha256(b"portcullis-bench").digest()[:16]
    iterations = 210_000
    value = hashlib.pbkdf2_hmac("sha512", b"bench-password", salt, iterations, 64)
    secret = json.dumps(
        {
            "value": base64.b64encode(value).decode(),
            "salt": base64.b64encode(salt).decode(),
            "additionalParameters": {},
        },
        separators=(",", ":"),
    )
    cred = json.dumps(
        {"hashIterations": iterations, "algorithm": "pbkdf2-sha512", "additionalParameters": {}},
        separators=(",", ":"),
    )
    return secret, cred, "pbkdf2-sha512 computed by hashlib"


GROUPS = [
    {"name": f"team-{i}", "realmRoles": ["member"]} for i in range(8)
] + [
    {
        "name": "staff",
        "realmRoles": ["member"],
        "subGroups": [{"name": "admins", "realmRoles": ["manager"]}],
    }
]
GROUP_PATHS = [f"/team-{i}" for i in range(8)] + ["/staff", "/staff/admins"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--realm", default="bench")
    args = ap.parse_args()

    secret, cred, origin = real_hash()
    head = {
        "realm": args.realm,
        "enabled": True,
        "roles": {
            "realm": [
                {"name": "member"},
                {"name": "manager", "composites": {"realm": ["member"]}},
            ]
        },
        "groups": GROUPS,
        "clients": [
            {
                "clientId": "bench-app",
                "secret": "bench-secret",
                "redirectUris": ["http://127.0.0.1/*"],
            }
        ],
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        text = json.dumps(head, separators=(",", ":"))
        f.write(text[:-1])  # leave the object open
        f.write(',"users":[')
        for i in range(args.users):
            name = f"user{i:06d}"
            user = {
                "username": name,
                "email": f"{name}@bench.example",
                "firstName": "User",
                "lastName": f"Number {i}",
                "enabled": True,
                "emailVerified": True,
                "attributes": {"employeeNumber": [str(100000 + i)]},
                "realmRoles": ["member"],
                "groups": [GROUP_PATHS[i % len(GROUP_PATHS)]],
                "credentials": [
                    {
                        "type": "password",
                        "createdDate": 1_700_000_000_000,
                        "secretData": secret,
                        "credentialData": cred,
                    }
                ],
            }
            if i:
                f.write(",")
            f.write(json.dumps(user, separators=(",", ":")))
        f.write("]}\n")
    size = out.stat().st_size
    print(
        f"wrote {out}: realm '{args.realm}', {args.users} users, {size / 1e6:.1f} MB (hash: {origin})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
