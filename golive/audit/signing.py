"""Ed25519 signatures of manifest.json: manifest.sig, and the keys that make and check it.

`--sign-key PATH` reads a PEM private key (PKCS#8, as `golive keygen` or
`openssl genpkey -algorithm ed25519` write it); `--sign-key env:VAR` reads the PEM text
from the environment variable VAR (a CI secret) and removes VAR from golive's environment,
so no setup command, app or Locust process golive starts inherits it. The private key is
held in memory only: its PEM text is added to the run's redactor, and nothing of it is
written anywhere. manifest.sig holds the signature, the public key and its fingerprint
(`sha256:` + the hex SHA-256 of the public key's DER SubjectPublicKeyInfo, which
`openssl pkey -pubin -in PUB.pem -outform DER | sha256sum` prints too).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from golive.errors import InputError

ENV_PREFIX = "env:"
FORMAT = "golive-signature/1"
KEYGEN_HINT = "make a key pair with `golive keygen` (docs/audit.md)"


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey
    source: str  # the file or env:VAR it came from, for messages
    secrets: tuple[str, ...]  # texts of the private key that output must never hold

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key.public_key())


def fingerprint(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_signer(spec: str | None) -> Signer | None:
    """The private key `--sign-key` names (a PEM file, or env:VAR); InputError (exit 2)
    naming it when it cannot be used. None without the option."""
    if spec is None:
        return None
    if spec.startswith(ENV_PREFIX):
        var = spec.removeprefix(ENV_PREFIX)
        text = os.environ.pop(var, None)  # nothing golive starts inherits it
        if not text:
            raise InputError(
                f"--sign-key {spec}: the environment variable {var} is not set or empty",
                hint="set it to the PEM text of an Ed25519 private key (a CI secret)",
            )
        if "\\n" in text and "\n" not in text.strip():
            text = text.replace("\\n", "\n")  # a secret stored on one line
        data, source = text.encode("utf-8"), spec
    else:
        path = Path(spec)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"--sign-key: cannot read the private key ({exc.strerror})",
                file=path,
                hint=KEYGEN_HINT,
            ) from None
        source = str(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(
            "--sign-key: the private key is encrypted; golive reads an unencrypted PEM "
            "(keep it in a CI secret)",
            file=source,
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            "--sign-key: not a PEM private key", file=source, hint=KEYGEN_HINT
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(
            f"--sign-key: a {type(key).__name__.removeprefix('_')} key; golive signs with Ed25519",
            file=source,
            hint=KEYGEN_HINT,
        )
    return Signer(key, source, _secret_texts(data, key))


def _secret_texts(data: bytes, key: Ed25519PrivateKey) -> tuple[str, ...]:
    """The PEM's base64 lines and the raw key in hex and base64: what a leak would show."""
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    lines = [
        line.strip()
        for line in data.decode("ascii", "replace").splitlines()
        if line.strip() and not line.startswith("-----")
    ]
    return (*lines, raw.hex(), base64.b64encode(raw).decode("ascii"))


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The public key `golive verify --key` names; InputError (exit 2) naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"--key: cannot read the public key ({exc.strerror})", file=path, hint=KEYGEN_HINT
        ) from None
    if b"PRIVATE KEY" in data:
        raise InputError(
            "--key: this is a private key; verify with the public key (keep the private "
            "one secret: `golive keygen` writes both)",
            file=path,
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("--key: not a PEM public key", file=path, hint=KEYGEN_HINT) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(
            f"--key: a {type(key).__name__.removeprefix('_')} key; golive signs with Ed25519",
            file=path,
        )
    return key


def signature_text(signer: Signer, signed: bytes, signed_name: str) -> str:
    """manifest.sig's text: the signature of `signed` with the public key that checks it."""
    public = signer.key.public_key()
    return (
        json.dumps(
            {
                "format": FORMAT,
                "algorithm": "ed25519",
                "signed_file": signed_name,
                "public_key_fingerprint": fingerprint(public),
                "public_key": public_pem(public),
                "signature": base64.b64encode(signer.key.sign(signed)).decode("ascii"),
            },
            indent=2,
        )
        + "\n"
    )


@dataclass(frozen=True)
class Signature:
    public_key: Ed25519PublicKey
    signature: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def signs(self, data: bytes, key: Ed25519PublicKey | None = None) -> bool:
        """Whether this signature of `data` checks with `key` (default: its own key)."""
        try:
            (key or self.public_key).verify(self.signature, data)
        except InvalidSignature:
            return False
        return True


def parse_signature(text: str) -> Signature:
    """manifest.sig's content; ValueError saying what is wrong with it."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    key = serialization.load_pem_public_key(str(data["public_key"]).encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("its public key is not an Ed25519 key")
    if data.get("public_key_fingerprint") != fingerprint(key):
        raise ValueError("its fingerprint is not its public key's")
    return Signature(key, base64.b64decode(str(data["signature"]), validate=True))


def keygen(private: Path, public: Path) -> str:
    """Write a new Ed25519 key pair (the private file mode 0600); its fingerprint.
    InputError when either file exists: a key is never overwritten."""
    for path in (private, public):
        if os.path.lexists(path):
            raise InputError("exists already; golive never overwrites a key", file=path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public.write_text(public_pem(key.public_key()), encoding="ascii")
    return fingerprint(key.public_key())
