#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into fuzz/corpus/.

Run from anywhere: `python3 fuzz/seeds/make-seeds.py`. Seeds are small,
valid (or nearly valid) examples that let libFuzzer reach the deep paths
quickly; the fuzzer adds what it finds to the same folders, and
`scripts/fuzz --cmin` minimises them. Some seeds are read from the
repository's own sources (the default policy, config fixtures, username
template defaults) so they follow the code.
"""
import hashlib
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rust_raw_consts(path):
    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    return re.findall(r'r#"(.*?)"#', text, re.S)


# decode: an HTTP/1.1 head (method, URI, headers), a blank line, the body.
for head, body in [
    ("GET /v1/secret/data/a?version=3", ""),
    ("LIST /v1/secret/metadata/dir", ""),
    ("GET /v1/secret/metadata/?list=true&help=0", ""),
    ("PUT /v1/secret/data/a\nX-Vault-Token: hvs.CAESIfuzz\nContent-Type: application/json", '{"data":{"k":"v"},"options":{"cas":0}}'),
    ("POST /v1/auth/token/create\nAuthorization: Bearer hvs.abc", '{"ttl":"1h","explicit_max_ttl":18446744073709551615}'),
    ("PATCH /v1/secret/data/a\nX-Vault-Wrap-TTL: 5m", '{"data":{"x":null}}'),
    ("DELETE /v1/sys/rekey/init?nonce=abc", ""),
    ("PUT /v1/sys/mounts/a%2Fb\nX-Vault-Wrap-TTL: 1e300", '{"type":"kv","config":{"default_lease_ttl":1e300}}'),
    ("GET /v1/secret/%2e%2e/%00/x", ""),
    ("PUT /v1/x", "[1,2,3]"),
    ("PUT /v1/x", '{"a":' * 40 + "1" + "}" * 40),
    ("GET /v1/secret/data/a?help=1", ""),
]:
    write("decode", head + "\n\n" + body)

# duration: text for parse_duration, JSON for parse_duration_value.
for d in ["30", "30s", "1h30m", "1.5h", "2d", "768h", "0", "", "-5s", "5x", "1..2s",
          "99999999999999h", "2562047h47m16.854775807s", "2562047h47m16.854775808s",
          "9000000000000000000s", "1e300", "18446744073709551616", "18446744073709551615",
          "-1", "1.5", "\"72h\"", "null", '{"ttl":"1h"}', '{"ttl":1e300}', "300µs", "1ns"]:
    write("duration", d)

# policy: the built-in default policy, plus HCL and JSON variants.
for p in rust_raw_consts("crates/services/policy/src/default_policy.rs"):
    write("policy", p)
write("policy", 'path "secret/data/*" {\n  capabilities = ["create", "read", "update", "list"]\n'
      '  allowed_parameters = { "a" = [] "n" = [1, 2] }\n  denied_parameters = { "x" = ["*"] }\n'
      '  min_wrapping_ttl = "1m"\n  max_wrapping_ttl = "90m"\n}\n'
      'path "secret/metadata/dir/*" { capabilities = ["list"] }\n'
      'path "sys/+/x/{{identity.entity.id}}" { capabilities = ["deny"] }\n')
write("policy", '{"path":{"secret/*":{"capabilities":["read","sudo"]},"auth/token/create":'
      '{"capabilities":["update"],"required_parameters":["ttl"]}}}')
write("policy", 'path "a" { policy = "write" }\npath "b*" { capabilities = [] }\n')

# config: the config crate's fixtures and a small production config.
fixtures = os.path.join(ROOT, "crates", "config", "tests", "fixtures")
for name in sorted(os.listdir(fixtures)):
    write("config", open(os.path.join(fixtures, name), "rb").read())
write("config", 'storage "redb" {\n  path = "/var/lib/coffer/coffer.redb"\n}\n'
      'listener "tcp" {\n  address = "127.0.0.1:8200"\n  tls_disable = true\n'
      '  http_read_timeout = "30s"\n  max_request_size = 1024\n}\n'
      'disable_mlock = true\nlog_level = "info"\ndefault_lease_ttl = "768h"\n'
      'max_lease_ttl = 1e300\nui = true\n'
      'audit "file" { path = "/var/log/coffer/audit.log" }\n')

# barrier: a mode byte (0 value, 1 root key, 2 keyring blob, 3 keyring
# plaintext, 4 keyring patch), then bytes.
write("barrier", bytes([0, 1, 0, 0, 0, 1]) + bytes(12) + b"ciphertext-and-tag-16")
write("barrier", bytes([1]) + bytes(60))
write("barrier", bytes([2]) + bytes(80))
write("barrier", bytes([3, 1, 0, 0, 0, 1]) + bytes(40))
write("barrier", bytes([4, 0, 0, 2]))
write("barrier", bytes([4, 5, 0, 0xff, 0xff, 0xff, 0xff]))

# audit_verify: a mode byte (0 raw file, 1 patch, 2 line surgery, 3 held
# checkpoint / expected head / origin), then bytes.
write("audit_verify", b"\x00" + b'{"seq":0,"prev":"' + b"0" * 64 + b'","type":"request"}\n'
      b'{"type":"checkpoint","time":"2025-01-01T00:00:00Z","size":1,"root":"AAAA","checkpoint":"x"}\n')
write("audit_verify", b"\x01\x10\x00XYZ")
write("audit_verify", b"\x01\xff\x7f" + b"\n" * 4)
write("audit_verify", b"\x02\x00\x01\x01\x02\x02\x03\x03\x04")
write("audit_verify", b"\x03coffer.audit/file\\n3\\nAAAA\\n\\n\xe2\x80\x94 coffer.audit/file abcd\\n\n3\ncoffer.audit/file")

# username_template: the database plugins' defaults and a few functions.
for t in rust_raw_consts("crates/foundation/username-template/src/defaults.rs"):
    write("username_template", t)
for t in ['{{ .DisplayName | lowercase | replace "." "_" }}', '{{ uuid }}-{{ timestamp "2006-01-02" }}',
          '{{ printf "%s-%d-%q" .RoleName 5 "x" | sha256 | truncate 10 }}', '{{ base64 .RoleName }}{{ unix_time_millis }}',
          '{{ if }}', '{{ truncate -1 .RoleName }}', 'plain-text', '{{ random 1000000 }}']:
    write("username_template", t)
