"""signing.py with real keys and real git: what git 2.39 reports for each kind of signature, and the clone's key."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from testing.repos import bare_remote
from testing.repos import commit_all
from testing.repos import git
from testing.repos import make_repo
from tests.conftest import Coord

from gitcoord import git as gitcmd
from gitcoord import signing
from gitcoord import sshkeys
from gitcoord.errors import FatalError


def _key(tmp: Path, name: str) -> tuple[Path, str]:
    path = tmp / "keys" / name
    path.parent.mkdir(exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path, sshkeys.parse(Path(f"{path}.pub").read_text())


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A repository with one commit per case: good (instance-1), unknown key (instance-2), none, bad."""
    repo = make_repo(tmp_path / "repo")
    (repo / "a").write_text("a\n")
    commit_all(repo)
    k1, pub1 = _key(tmp_path, "instance-1")
    k2, pub2 = _key(tmp_path, "instance-2")
    tree = git(repo, "rev-parse", "HEAD^{tree}")

    def commit(message: str, *config: str) -> str:
        done = subprocess.run(
            ["git", *config, "commit-tree", *(["-S"] if config else []), "-p", "HEAD", tree],
            cwd=repo,
            input=message,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    ssh = ("-c", "gpg.format=ssh")
    good = commit("good\n", *ssh, "-c", f"user.signingkey={k1}")
    unknown = commit("unknown\n", *ssh, "-c", f"user.signingkey={k2}")
    none = commit("none\n")
    text = git(repo, "cat-file", "commit", good).replace("\n\ngood", "\n\nchanged after signing")
    bad = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=repo,
        input=text + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return repo, {"good": good, "unknown": unknown, "none": none, "bad": bad}, {"instance-1": pub1, "instance-2": pub2}


def test_how_git_reports_each_kind_of_signature(signed: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    repo, commits, keys = signed
    verdicts = signing.verify(repo, list(commits.values()), {"instance-1": [keys["instance-1"]]})
    fp1, fp2 = sshkeys.fingerprint(keys["instance-1"]), sshkeys.fingerprint(keys["instance-2"])
    assert verdicts[commits["good"]] == signing.Verdict("G", "instance-1", fp1)
    assert verdicts[commits["unknown"]] == signing.Verdict("U", "", fp2), "good signature, key not in the file"
    assert verdicts[commits["none"]] == signing.Verdict("N", "", "")
    assert verdicts[commits["bad"]] == signing.Verdict("B", "", "")
    # One principal may hold several keys (a merge: either parent's key counts).
    both = signing.verify(repo, [commits["unknown"]], {"instance-2": [keys["instance-1"], keys["instance-2"]]})
    assert both[commits["unknown"]] == signing.Verdict("G", "instance-2", fp2)


def test_without_an_allowed_signers_file_git_calls_a_good_signature_unsigned(
    signed: tuple[Path, dict[str, str], dict[str, str]],
) -> None:
    """Why verify() always writes a file, even for an empty key set: git 2.39 then says N, not U."""
    repo, commits, _ = signed
    assert git(repo, "log", "--no-walk", "--format=%G?", commits["good"]) == "N"
    assert signing.verify(repo, [commits["good"]], {})[commits["good"]].status == "U"


def test_a_missing_ssh_keygen_is_said_plainly(signed: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    repo, commits, keys = signed
    git(repo, "config", "gpg.ssh.program", "/nonexistent/ssh-keygen")
    # What git itself reports: every signature bad, and "cannot run" on stderr.
    with signing.allowed_signers_file({"instance-1": [keys["instance-1"]]}) as path:
        found, stderr = gitcmd.signatures(repo, [commits["good"]], path)
    assert [c.status for c in found] == ["B"]
    assert "cannot run /nonexistent/ssh-keygen" in stderr
    with pytest.raises(FatalError, match=r"/nonexistent/ssh-keygen \(OpenSSH\) is needed"):
        signing.verify(repo, [commits["good"]], {"instance-1": [keys["instance-1"]]})


def test_ssh_keygen_missing_from_path_is_said_plainly(
    signed: tuple[Path, dict[str, str], dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits, keys = signed
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git") or "git")
    monkeypatch.setenv("PATH", str(bin_dir))
    with signing.allowed_signers_file({"instance-1": [keys["instance-1"]]}) as path:
        found, stderr = gitcmd.signatures(repo, [commits["good"]], path)
    assert [c.status for c in found] == ["B"], "git 2.39 calls it bad"
    assert "cannot run ssh-keygen" in stderr
    with pytest.raises(FatalError, match="ssh-keygen \\(OpenSSH\\) is needed to sign and verify"):
        signing.verify(repo, [commits["good"]], {"instance-1": [keys["instance-1"]]})
    with pytest.raises(FatalError, match="ssh-keygen \\(OpenSSH\\) is needed to sign and verify"):
        signing.ensure(make_repo(tmp_path / "other"), "instance-1")


def test_the_allowed_signers_file_is_private_and_gone_after_the_check() -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDR5/0xXp28IODIZIr7dT96dtPfgNTqhC0/P8EtvRHZG"
    with signing.allowed_signers_file({"instance-1": [key + " a comment"], "human": [key]}) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text() == f'human namespaces="git" {key}\ninstance-1 namespaces="git" {key}\n'
    assert not path.exists()
    with pytest.raises(ValueError, match="cannot name a signer"):
        signing.allowed_signers({"* ": [key]})
    # A key that is no key (written before the rulebook refused it) signs nothing and stops nothing.
    assert signing.allowed_signers({"instance-1": [key], "instance-2": ["ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB"]}) == (
        f'instance-1 namespaces="git" {key}\n'
    )


def test_ensure_makes_one_private_key_per_instance_and_signs_plumbing_commits(tmp_path: Path) -> None:
    first, second = make_repo(tmp_path / "one"), make_repo(tmp_path / "two")
    key, changed = signing.ensure(first, "instance-1")
    assert changed == ["gpg.format", "user.signingkey", "commit.gpgsign"]
    assert key.path == Path(os.environ["XDG_DATA_HOME"]) / "gitcoord" / "keys" / "instance-1"
    assert key.origin == "created"
    assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.path.parent.stat().st_mode) == 0o700
    assert Path(f"{key.path}.pub").read_text().split()[2] == "instance-1"
    # Another clone acting as instance-1 on this machine signs with the same key.
    again, _ = signing.ensure(second, "instance-1")
    assert (again.public, again.path) == (key.public, key.path)
    assert "gitcoord's key for instance-1" in again.origin
    assert signing.ensure(first, "instance-1")[1] == [], "nothing left to change"
    # commit-tree ignores commit.gpgSign by itself; gitcoord's commit_tree signs as the clone asks.
    (first / "a").write_text("a\n")
    head = commit_all(first)
    tree = gitcmd.Sha(git(first, "rev-parse", "HEAD^{tree}"))
    plain = subprocess.run(
        ["git", "commit-tree", "-p", head, tree], cwd=first, input="x\n", capture_output=True, text=True, check=True
    )
    assert "gpgsig" not in git(first, "cat-file", "commit", plain.stdout.strip())
    assert "gpgsig" in git(first, "cat-file", "commit", gitcmd.commit_tree(first, tree, [gitcmd.Sha(head)], "x\n"))
    assert "gpgsig" in git(first, "cat-file", "commit", head), "and hand commits"


def test_ensure_keeps_a_key_the_clone_already_signs_with(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    path, public = _key(tmp_path, "mine")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(path))
    key, changed = signing.ensure(repo, "instance-1")
    assert (key.public, key.path, key.origin) == (public, path, "git config (local)")
    assert changed == ["commit.gpgsign"]
    # A public key file (the private half in an ssh-agent) or a literal key::, as git allows.
    git(repo, "config", "user.signingkey", f"{path}.pub")
    assert signing.current(repo) == signing.Key(public, Path(f"{path}.pub"), "git config (local)")
    git(repo, "config", "user.signingkey", f"key::{public} a comment")
    assert signing.current(repo) == signing.Key(public, None, "git config (local), a literal key")


def test_a_clone_that_acted_as_another_instance_gets_the_new_instance_key(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    one, _ = signing.ensure(repo, "instance-1")
    two, changed = signing.ensure(repo, "instance-2")
    assert one.path is not None
    assert two.path == one.path.with_name("instance-2")
    assert "user.signingkey" in changed


def test_a_key_whose_public_half_is_missing_is_read_with_ssh_keygen(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    path, public = _key(tmp_path, "lost-pub")
    Path(f"{path}.pub").unlink()
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(path))
    current = signing.current(repo)
    assert current is not None
    assert current.public == public


def test_git_that_cannot_sign_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "gpg.format", "ssh")
    git(
        repo,
        "config",
        "user.signingkey",
        "key::ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDR5/0xXp28IODIZIr7dT96dtPfgNTqhC0/P8EtvRHZG",
    )
    with pytest.raises(FatalError, match="git cannot sign with"):
        signing.ensure(repo, "instance-1")  # a public key and no agent that holds its private half


def test_a_signed_store_started_on_a_code_branch_passes_its_own_pre_push_hook(
    repo: Path, coord: Coord, tmp_path: Path
) -> None:
    """The store made from nothing on top of code commits, signatures required from its first
    commit: a root of trust, not a commit that turns signatures on in a store that had none."""
    (repo / "app.py").write_text("print('code')\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", "code", "--no-verify")
    assert coord(repo, "init", "--as", "human", "--branch", "main").code == 0
    remote = bare_remote(tmp_path / "remote.git")
    git(repo, "remote", "add", "origin", str(remote))
    pushed = subprocess.run(["git", "push", "origin", "main"], cwd=repo, capture_output=True, text=True, check=False)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert git(remote, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")
