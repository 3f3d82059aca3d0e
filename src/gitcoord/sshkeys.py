"""OpenSSH public keys as the registry keeps them: "TYPE BASE64", no comment.

Pure: parsing a key someone pasted or a .pub file holds, and its fingerprint as
`ssh-keygen -l` and git's %GK print it (SHA256:...), so that a key can be matched to the
signature git verified without another process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
)


class NotAKey(ValueError):
    """The text is not an OpenSSH public key; the message says what one looks like."""


def parse(text: str) -> str:
    """The key in `text` ("TYPE BASE64 [comment]", or git's "key::TYPE BASE64") as "TYPE BASE64"."""
    fields = text.strip().removeprefix("key::").split()
    if len(fields) < 2 or fields[0] not in KEY_TYPES:
        shown = text.strip()[:40] or "(nothing)"
        raise NotAKey(
            f"{shown!r} is not an OpenSSH public key: expected `TYPE BASE64 [comment]`, TYPE one of "
            + ", ".join(KEY_TYPES)
        )
    kind, data = fields[0], fields[1]
    try:
        blob = base64.b64decode(data, validate=True)
        (size,) = struct.unpack(">I", blob[:4])
        named = blob[4 : 4 + size].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise NotAKey(f"the {kind} key's BASE64 part is damaged; copy the whole line of the .pub file") from None
    if named != kind:
        raise NotAKey(f"the key says {kind} but holds a {named} key; copy the whole line of the .pub file")
    return f"{kind} {data}"


def fingerprint(key: str) -> str:
    """SHA256:... of a parsed key, as ssh-keygen -l and git's %GK print it."""
    blob = base64.b64decode(key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
