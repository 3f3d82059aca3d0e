"""A clone's SSH signing key, and git's verdict on the signatures of commits.

An edge module: it makes keys with ssh-keygen, configures the clone through git.py, and asks
git to verify signatures against an allowed signers file that lives only as long as the check.

A clone signs with the key its git config names (`gpg.format ssh`, `user.signingkey`), or
with gitcoord's key for its instance on this machine, made once with `ssh-keygen -t ed25519`
in a private directory ($COORD_KEYS_DIR, else $XDG_DATA_HOME/gitcoord/keys, else
~/.local/share/gitcoord/keys) and shared by every clone that acts as that instance here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord import git
from gitcoord import sshkeys
from gitcoord.errors import FatalError

_CONFIG = ("gpg.format", "user.signingkey", "gpg.ssh.program")
_PRINCIPAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # an instance id: nothing ssh-keygen reads as a pattern


class Key(NamedTuple):
    public: str  # "TYPE BASE64"
    path: Path | None  # the file user.signingkey names (None for a literal key::...)
    origin: str  # where it came from, for people: "created", "gitcoord's key for X", "git config (global)"

    @property
    def fingerprint(self) -> str:
        return sshkeys.fingerprint(self.public)


class Verdict(NamedTuple):
    """git's verdict on one commit's signature."""

    status: str  # %G?: G good and known, U good but not in the file, N unsigned, B bad, E, X, Y, R
    principal: str  # %GS: the name the allowed signers file gives the key ("" unless G)
    fingerprint: str  # %GK: the key that signed, SHA256:... ("" when unsigned or bad)


def keys_dir() -> Path:
    if os.environ.get("COORD_KEYS_DIR"):
        return Path(os.environ["COORD_KEYS_DIR"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "gitcoord" / "keys"


def ssh_keygen(root: Path) -> str:
    """The ssh-keygen git signs and verifies with, by path; a FatalError saying what to do if there is none."""
    configured = git.config_values(root, _CONFIG).get("gpg.ssh.program", ("ssh-keygen", ""))[0]
    found = shutil.which(os.path.expanduser(configured))
    if found is None:
        raise FatalError(
            f"{configured} (OpenSSH) is needed to sign and verify coordination commits and was not found: "
            "install OpenSSH's client tools (e.g. `apt install openssh-client`), "
            "or point `git config gpg.ssh.program` at ssh-keygen"
        )
    return found


def current(root: Path) -> Key | None:
    """The key this clone signs with, if its git config sets up SSH signing with a key that exists."""
    config = git.config_values(root, _CONFIG)
    fmt, value = config.get("gpg.format", ("", ""))[0], config.get("user.signingkey")
    if fmt != "ssh" or value is None or not value[0]:
        return None
    text, scope = value
    if text.startswith("key::"):
        return Key(sshkeys.parse(text), None, f"git config ({scope}), a literal key")
    path = Path(os.path.expanduser(text))
    public = _public_of(root, path)
    return Key(public, path, f"git config ({scope})") if public else None


def held(root: Path) -> list[Key]:
    """The key this clone signs with, then those it signed with before, which a rotation kept
    beside it (`adopt`): a step made with one of them is signed again with the same key."""
    key = current(root)
    if key is None or key.path is None:
        return [key] if key is not None else []
    retired = sorted(p for p in key.path.parent.glob(f"{key.path.name}.retired-*") if p.suffix != ".pub")
    return [key, *(Key(public, p, "retired") for p in retired if (public := _public_of(root, p)))]


def made_by(root: Path, commits: Sequence[git.Change], me: str, keys: Sequence[Key]) -> dict[str, Key]:
    """Those of `commits` that act as `me` alone and are signed with one of `keys` (this clone's:
    `held`), each with the key that signed it: what this clone made, as no one else could sign it."""
    acting = [c.sha for c in commits if c.instances == (me,)]
    by_print = {k.fingerprint: k for k in keys}
    verdicts = verify(root, acting, {me: [k.public for k in keys]}) if keys else {}
    return {
        c: by_print[v.fingerprint]
        for c in acting
        if (v := verdicts.get(c)) is not None and v.status == "G" and v.fingerprint in by_print
    }


def ensure(root: Path, instance: str, *, taken: Iterable[str] = ()) -> tuple[Key, list[str]]:
    """Set this clone up to sign its commits as `instance`; the key, and what changed in its config.

    An existing SSH signing key is kept, unless it is gitcoord's key for another instance, or one
    of the keys `taken` (the store's, for the others): a key in the global git config serves
    one instance only, and each clone acting as another gets gitcoord's key for it."""
    ssh_keygen(root)
    key = current(root)
    mine = keys_dir() / instance
    if key is not None and key.path is not None and key.path.parent == keys_dir() and key.path != mine:
        key = None  # this clone acted as someone else before
    if key is not None and key.public in set(taken):
        key = None
    changed = []
    if key is None:
        created = not mine.exists() and _create(root, mine, instance)
        public = _public_of(root, mine)
        if public is None:  # pragma: no cover (a key file that is not a key: said by ssh-keygen -y)
            raise FatalError(f"{mine} is not an SSH key; move it away and run the command again")
        key = Key(public, mine, "created" if created else f"gitcoord's key for {instance} on this machine")
        for name, value in (("gpg.format", "ssh"), ("user.signingkey", str(mine))):
            git.set_config(root, name, value)
            changed.append(name)
    if not git.config_bool(root, "commit.gpgsign"):
        git.set_config(root, "commit.gpgsign", "true")
        changed.append("commit.gpgsign")
    problem = git.can_sign(root)
    if problem is not None:
        raise FatalError(f"git cannot sign with {key.path or key.public}:\n{problem}")
    return key, changed


def new_key(root: Path, instance: str) -> tuple[Path, str]:
    """A new key for `instance` beside its current one, not yet in use (for a rotation): path and public key."""
    path = keys_dir() / f"{instance}.next"
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    _create(root, path, instance)
    public = _public_of(root, path)
    assert public is not None
    return path, public


def adopt(root: Path, instance: str, path: Path) -> Path:
    """Make the key at `path` (from `new_key`) the key of `instance` here; the old one is kept, renamed."""
    mine = keys_dir() / instance
    if mine.exists():
        stamp = 0
        while (retired := mine.with_name(f"{instance}.retired-{stamp}")).exists():
            stamp += 1
        for suffix in ("", ".pub"):
            old = Path(str(mine) + suffix)
            if old.exists():
                old.rename(Path(str(retired) + suffix))
    for suffix in ("", ".pub"):
        Path(str(path) + suffix).rename(Path(str(mine) + suffix))
    git.set_config(root, "gpg.format", "ssh")
    git.set_config(root, "user.signingkey", str(mine))
    return mine


def _create(root: Path, path: Path, instance: str) -> bool:
    """Make an ed25519 key at `path` (0600, in a 0700 directory); False if another process made it first."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    # Made aside and linked into place, so two clones setting up at once share one key.
    with tempfile.TemporaryDirectory(dir=directory, prefix=f".{path.name}-") as scratch:
        made = Path(scratch) / "key"
        done = subprocess.run(
            [ssh_keygen(root), "-q", "-t", "ed25519", "-N", "", "-C", instance, "-f", str(made)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise FatalError(f"ssh-keygen could not make a key: {done.stderr.decode(errors='replace').strip()}")
        try:
            os.link(made, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: a rename, which another clone could race
            if path.exists():
                return False
            os.replace(Path(f"{made}.pub"), Path(f"{path}.pub"))
            os.replace(made, path)
            path.chmod(0o600)
            return True
        with contextlib.suppress(FileExistsError):
            os.link(Path(f"{made}.pub"), Path(f"{path}.pub"))
    path.chmod(0o600)
    return True


def _public_of(root: Path, path: Path) -> str | None:
    """The public key of a key file: the file itself if it is public, else its .pub, else what ssh-keygen -y says."""
    if not path.is_file():
        return None
    with path.open("rb") as f:
        head = f.read(4096).decode("utf-8", "replace")
    with contextlib.suppress(sshkeys.NotAKey):
        return sshkeys.parse(head)
    pub = Path(f"{path}.pub")
    if pub.is_file():
        with contextlib.suppress(sshkeys.NotAKey):
            return sshkeys.parse(pub.read_text("utf-8", "replace"))
    done = subprocess.run(
        [ssh_keygen(root), "-y", "-P", "", "-f", str(path)], stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise FatalError(
            f"cannot read the public key of {path} (protected by a passphrase?): put its public key beside it "
            f"as {pub.name}, or load it into ssh-agent and point user.signingkey at the .pub file"
        )
    return sshkeys.parse(done.stdout.decode("utf-8", "replace"))


# Verifying --------------------------------------------------------------------------------


def allowed_signers(keys: Mapping[str, Iterable[str]]) -> str:
    """The allowed signers text for {principal: public keys}: `PRINCIPAL namespaces="git" KEY` lines."""
    lines = []
    for principal in sorted(keys):
        if not _PRINCIPAL.match(principal):
            raise ValueError(f"{principal!r} cannot name a signer")
        lines += [f'{principal} namespaces="git" {key}' for key in _parsed(keys[principal])]
    return "".join(line + "\n" for line in lines)


def _parsed(keys: Iterable[str]) -> list[str]:
    """The keys that are keys: one that is not (written into a history before the rulebook refused
    it) signs nothing, and must not stop the checks of every other signer's commits."""
    found = []
    for text in sorted(set(keys)):
        with contextlib.suppress(sshkeys.NotAKey):
            found.append(sshkeys.parse(text))
    return found


@contextlib.contextmanager
def allowed_signers_file(keys: Mapping[str, Iterable[str]]) -> Iterator[Path]:
    """The allowed signers file for `keys`, private to this user, for as long as the `with` lasts."""
    fd, name = tempfile.mkstemp(prefix="gitcoord-signers-")  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(allowed_signers(keys))
        yield Path(name)
    finally:
        os.unlink(name)


def verify(root: Path, commits: Sequence[str], keys: Mapping[str, Iterable[str]]) -> dict[str, Verdict]:
    """git's verdict on each commit's signature, with `keys` as the allowed signers, in one git call."""
    if not commits:
        return {}
    ssh_keygen(root)
    with allowed_signers_file(keys) as path:
        found, stderr = git.signatures(root, commits, path)
    if "cannot run" in stderr:
        # git 2.39 reports every signature as B(ad) when it cannot run ssh-keygen: say what it is.
        raise FatalError(f"git cannot run ssh-keygen to verify signatures:\n{stderr.strip()}")
    return {c.sha: Verdict(c.status, c.principal, c.fingerprint) for c in found}
