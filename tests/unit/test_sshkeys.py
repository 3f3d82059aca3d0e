"""Public keys as the registry keeps them: parsing, fingerprints, and the schema's pattern."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
from tests.conftest import SEED
from tests.oracle import errors as _reference
from tests.unit.test_schema import _ours

from gitcoord import model
from gitcoord import sshkeys


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real key of each kind ssh-keygen makes here, as its .pub line and its `ssh-keygen -l` fingerprint."""
    where = tmp_path_factory.mktemp("keys")
    found = {}
    for kind, bits in (("ed25519", ""), ("ecdsa", "384"), ("rsa", "2048")):
        path = where / kind
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                kind,
                *(["-b", bits] if bits else []),
                "-N",
                "",
                "-C",
                "me@host",
                "-f",
                str(path),
            ],
            check=True,
        )
        line = Path(f"{path}.pub").read_text()
        listed = subprocess.run(["ssh-keygen", "-lf", f"{path}.pub"], capture_output=True, text=True, check=True)
        found[line] = listed.stdout.split()[1]
    return found


def test_a_pub_line_parses_to_type_and_base64_and_fingerprints_as_ssh_keygen_does(made: dict[str, str]) -> None:
    for line, fingerprint in made.items():
        key = sshkeys.parse(line)
        assert key == " ".join(line.split()[:2])
        assert sshkeys.fingerprint(key) == fingerprint
        assert sshkeys.parse("key::" + key) == key


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is not an OpenSSH public key"),
        ("ssh-ed25519", "is not an OpenSSH public key"),
        ("ssh-dss AAAAB3NzaC1kc3M=", "is not an OpenSSH public key"),
        ("ssh-ed25519 AAAA", "damaged"),
        ("ssh-ed25519 not*base64", "damaged"),
        ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIDR5/0xXp28IODIZIr7dT96dtPfgNTqhC0/P8EtvRHZG", "holds a ssh-ed25519 key"),
    ],
)
def test_what_is_not_a_key_is_refused_with_what_one_looks_like(text: str, says: str) -> None:
    with pytest.raises(sshkeys.NotAKey, match=says):
        sshkeys.parse(text)


def test_the_schema_takes_parsed_keys_and_refuses_others(made: dict[str, str]) -> None:
    registry = json.loads((SEED / model.REGISTRY).read_text())
    for line in made:
        doc = copy.deepcopy(registry)
        doc["instances"]["instance-1"]["signing_key"] = sshkeys.parse(line)
        doc["settings"] = {"require_signatures": True, "human_key": sshkeys.parse(line)}
        assert _ours(model.REGISTRY, doc) == _reference(model.REGISTRY, doc) == set()
    for bad in (next(iter(made)).strip(), "ssh-dss AAAA", "ssh-ed25519 AAAA AAAA", None):
        doc = copy.deepcopy(registry)
        doc["instances"]["instance-1"]["signing_key"] = bad
        doc["settings"] = {"require_signatures": "yes"}
        wrong = {"$.instances['instance-1'].signing_key", "$.settings.require_signatures"}
        assert _ours(model.REGISTRY, doc) == _reference(model.REGISTRY, doc) == wrong
