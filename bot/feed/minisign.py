"""minisign's file formats (keys and signatures) over `cryptography`'s Ed25519: no home-made crypto.

The stock `minisign` tool reads and writes the same files, so maintainers may sign with either.
A signature is Ed25519 over BLAKE2b-512 of the file ("ED", minisign's default, prehashed), plus a global
signature over that signature and the trusted comment, so the trusted comment (which carries the catalog
version) cannot be changed either. Format: https://jedisct1.github.io/minisign
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bot.feed.errors import FeedError

__all__ = [
    "BadKey",
    "BadSignature",
    "KeyPair",
    "PublicKey",
    "SecretKey",
    "Signature",
    "generate_key_pair",
    "sign",
]

_ED25519 = b"Ed"  # the key algorithm, in keys and legacy (not prehashed) signatures
_PREHASHED = b"ED"  # the signature algorithm: Ed25519 over BLAKE2b-512 of the message
_KDF_NONE = b"\x00\x00"  # an unencrypted secret key (minisign -W)
_CHECKSUM = b"B2"


class BadKey(FeedError, ValueError):
    """A key is not in minisign's format."""


class BadSignature(FeedError):
    """A signature is malformed, by an unknown key, or does not match the data."""


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadKey(f"{what} is not base64") from None


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes  # 8 bytes, little-endian as minisign stores it
    key: Ed25519PublicKey

    @classmethod
    def from_base64(cls, text: str) -> PublicKey:
        """The one line minisign prints (`minisign -P RW...`), or the second line of a .pub file."""
        raw = _b64(text, "the public key")
        if len(raw) != 42 or raw[:2] != _ED25519:
            raise BadKey("the public key is not a minisign Ed25519 key (42 bytes starting 'Ed')")
        return cls(raw[2:10], Ed25519PublicKey.from_public_bytes(raw[10:]))

    @classmethod
    def from_file(cls, path: Path) -> PublicKey:
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls.from_base64(lines[1] if len(lines) > 1 else (lines[0] if lines else ""))

    @property
    def key_id_hex(self) -> str:
        """As minisign prints it: the 8 bytes reversed, upper-case hex."""
        return self.key_id[::-1].hex().upper()

    def to_base64(self) -> str:
        return base64.b64encode(_ED25519 + self.key_id + self.key.public_bytes_raw()).decode()

    def file_text(self) -> str:
        return f"untrusted comment: minisign public key {self.key_id_hex}\n{self.to_base64()}\n"


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    key: Ed25519PrivateKey

    @classmethod
    def from_file(cls, path: Path) -> SecretKey:
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2:
            raise BadKey(f"{path} is not a minisign secret key file")
        raw = _b64(lines[1], "the secret key")
        if len(raw) != 158 or raw[:2] != _ED25519 or raw[4:6] != _CHECKSUM:
            raise BadKey(f"{path} is not a minisign Ed25519 secret key")
        if raw[2:4] != _KDF_NONE:
            raise BadKey(f"{path} is password-protected; create it with `minisign -G -W` or `catalog keygen`")
        key_id, secret = raw[54:62], raw[62:126]
        return cls(key_id, Ed25519PrivateKey.from_private_bytes(secret[:32]))

    def public(self) -> PublicKey:
        return PublicKey(self.key_id, self.key.public_key())

    def file_text(self) -> str:
        seed = self.key.private_bytes_raw()
        secret = seed + self.key.public_key().public_bytes_raw()  # libsodium's 64-byte secret key
        checksum = hashlib.blake2b(_ED25519 + self.key_id + secret, digest_size=32).digest()
        # No key derivation (unencrypted, as `minisign -W`): salt and limits are zero.
        raw = _ED25519 + _KDF_NONE + _CHECKSUM + bytes(48) + self.key_id + secret + checksum
        return (
            "untrusted comment: minisign secret key (unencrypted)\n" + base64.b64encode(raw).decode() + "\n"
        )


@dataclass(frozen=True)
class KeyPair:
    secret: SecretKey
    public: PublicKey


def generate_key_pair() -> KeyPair:
    secret = SecretKey(os.urandom(8), Ed25519PrivateKey.generate())
    return KeyPair(secret, secret.public())


@dataclass(frozen=True)
class Signature:
    algorithm: bytes
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes

    @classmethod
    def parse(cls, text: bytes | str) -> Signature:
        """A .minisig file: untrusted comment, signature, trusted comment, global signature."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise BadSignature("the signature file is not UTF-8 text") from None
        lines = text.splitlines()
        if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
            raise BadSignature("the signature file is not in minisign's format (4 lines)")
        try:
            raw = base64.b64decode(lines[1], validate=True)
            global_signature = base64.b64decode(lines[3], validate=True)
        except (binascii.Error, ValueError):
            raise BadSignature("the signature is not base64") from None
        if len(raw) != 74 or raw[:2] not in (_PREHASHED, _ED25519) or len(global_signature) != 64:
            raise BadSignature("the signature is not a minisign Ed25519 signature")
        comment = lines[2].removeprefix("trusted comment: ")
        return cls(raw[:2], raw[2:10], raw[10:], comment, global_signature)

    def file_text(self) -> str:
        line = base64.b64encode(self.algorithm + self.key_id + self.signature).decode()
        return (
            "untrusted comment: signature from policybot catalog key\n"
            f"{line}\ntrusted comment: {self.trusted_comment}\n"
            f"{base64.b64encode(self.global_signature).decode()}\n"
        )

    def verify(self, data: bytes, keys: list[PublicKey]) -> PublicKey:
        """The pinned key that signed `data` and this trusted comment; BadSignature otherwise."""
        key = next((k for k in keys if k.key_id == self.key_id), None)
        if key is None:
            raise BadSignature(f"signed by an unknown key {self.key_id[::-1].hex().upper()}")
        message = hashlib.blake2b(data).digest() if self.algorithm == _PREHASHED else data
        try:
            key.key.verify(self.signature, message)
            key.key.verify(self.global_signature, self.signature + self.trusted_comment.encode("utf-8"))
        except InvalidSignature:
            raise BadSignature("the signature does not match (tampered data or comment)") from None
        return key


def sign(data: bytes, secret: SecretKey, trusted_comment: str) -> Signature:
    """Sign as `minisign -S -t COMMENT` does (prehashed)."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise ValueError("a trusted comment is one line")
    signature = secret.key.sign(hashlib.blake2b(data).digest())
    global_signature = secret.key.sign(signature + trusted_comment.encode("utf-8"))
    return Signature(_PREHASHED, secret.key_id, signature, trusted_comment, global_signature)
