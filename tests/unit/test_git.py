"""The git package: each failure worth telling apart, classified, with real git (never a mock)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from testing.repos import bare_remote
from testing.repos import commit_all
from testing.repos import git as sh
from testing.repos import make_repo

from gitcoord import git

SRC = Path(__file__).parents[2] / "src" / "gitcoord"
MAIN = git.Ref("refs/heads/main")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone with one commit, pushed to a bare remote named origin."""
    remote = bare_remote(tmp_path / "remote.git")
    repo = make_repo(tmp_path / "clone")
    (repo / "a.txt").write_text("one\n")
    commit_all(repo, "one")
    sh(repo, "remote", "add", "origin", str(remote))
    sh(repo, "push", "-q", "origin", "main")
    return repo


def _head(repo: Path) -> git.Sha:
    found = git.rev_parse(repo, "HEAD")
    assert found is not None
    return found


def test_no_module_outside_the_git_package_builds_a_git_command_line() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if SRC / "git" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            first = node.elts[0] if isinstance(node, ast.List) and node.elts else None
            if isinstance(node, ast.List) and isinstance(first, ast.Constant) and first.value == "git":
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gitcoord.git."):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} imports {node.module}")
    assert offenders == []


def test_a_git_error_shows_the_command_its_code_and_both_streams(clone: Path) -> None:
    with pytest.raises(git.GitError) as caught:
        git.add(clone, ["no-such-file"])
    e = caught.value
    assert e.cmd[:2] == ["git", "add"]
    assert e.returncode == 128
    assert "did not match any files" in e.stderr
    assert str(e).startswith("`git add -- no-such-file` failed with exit code 128\nstdout:\n    (none)\nstderr:\n")
    assert "    fatal: pathspec 'no-such-file' did not match any files" in str(e)


def test_fetching_a_branch_the_remote_lacks_is_told_apart_from_an_unreachable_remote(clone: Path) -> None:
    with pytest.raises(git.RemoteRefMissing):
        git.fetch(clone, "origin", git.Ref("refs/heads/nope"), git.Ref("refs/remotes/origin/nope"))
    with pytest.raises(git.FetchFailed) as failed:
        git.fetch(clone, str(clone.parent / "gone.git"), MAIN, git.Ref("refs/remotes/gone/main"))
    # git's reason, not the advice it ends with ("... and the repository exists.")
    assert failed.value.reason.endswith("does not appear to be a git repository"), failed.value.stderr
    git.fetch(clone, "origin", MAIN, git.Ref("refs/remotes/origin/main"))
    assert git.rev_parse(clone, "refs/remotes/origin/main") == _head(clone)


def test_a_push_overtaken_by_another_is_told_apart_from_one_a_hook_declined(clone: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    sh(tmp_path, "clone", "-q", str(tmp_path / "remote.git"), str(other))
    (other / "b.txt").write_text("theirs\n")
    commit_all(other, "theirs")
    sh(other, "push", "-q", "origin", "main")
    (clone / "a.txt").write_text("two\n")
    mine = git.Sha(commit_all(clone, "mine"))
    with pytest.raises(git.PushRejected):
        git.push(clone, "origin", mine, MAIN)
    hook = tmp_path / "remote.git" / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'this branch is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(git.PushFailed) as caught:
        git.push(clone, "origin", mine, git.Ref("refs/heads/elsewhere"))
    assert not isinstance(caught.value, git.PushRejected)
    assert "this branch is protected" in caught.value.output


def test_locks_name_their_file(clone: Path) -> None:
    head = _head(clone)
    lock = clone / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")
    with pytest.raises(git.RefLocked) as ref_locked:
        git.update_ref(clone, MAIN, head, head, "test")
    assert ref_locked.value.lock == lock
    lock.unlink()
    assert not git.update_ref(clone, MAIN, head, git.Sha("0" * 40), "test"), "a lost compare-and-swap is False"
    index_lock = clone / ".git" / "index.lock"
    index_lock.write_text("")
    with pytest.raises(git.IndexLocked) as index_locked:
        git.add(clone, ["a.txt"])
    assert index_locked.value.lock == index_lock


def test_a_fast_forward_that_would_overwrite_local_changes_is_refused(clone: Path) -> None:
    start = _head(clone)
    (clone / "a.txt").write_text("two\n")
    ahead = git.Sha(commit_all(clone, "two"))
    sh(clone, "reset", "-q", "--hard", start)
    (clone / "a.txt").write_text("local edit\n")
    with pytest.raises(git.WouldOverwrite) as caught:
        git.ff_merge(clone, ahead)
    assert caught.value.paths == ["a.txt"]
    assert (clone / "a.txt").read_text() == "local edit\n"


def test_branch_names_are_read_in_full_where_a_tag_has_the_same_name(clone: Path) -> None:
    """git shortens refs/heads/main to heads/main where a tag main stands beside it: a name anyone
    who can push a tag would otherwise change for every reader of the branches."""
    sh(clone, "tag", "main")
    assert list(git.branch_tips(clone)) == ["main"]
    assert git.head_branch(clone) == "main"
    assert "refs/tags/main" in git.ref_names(clone)


def test_merge_tree_conflicts_need_a_person(clone: Path) -> None:
    start = _head(clone)
    (clone / "a.txt").write_text("ours\n")
    ours = git.Sha(commit_all(clone, "ours"))
    sh(clone, "reset", "-q", "--hard", start)
    (clone / "a.txt").write_text("theirs\n")
    theirs = git.Sha(commit_all(clone, "theirs"))
    with pytest.raises(git.MergeTreeConflict) as caught:
        git.merge_tree(clone, ours, theirs)
    assert "CONFLICT (content): Merge conflict in a.txt" in caught.value.messages


def test_small_queries(clone: Path) -> None:
    head = _head(clone)
    assert git.version(clone) >= (2, 38)
    assert git.check_attr(clone, "merge", "a.txt") == "unspecified"
    assert git.symbolic_ref(clone, "HEAD") == "refs/heads/main"
    assert git.rev_list_count(clone, head) == 1
    assert git.root_commits(clone, "main") == [head]
    (clone / "a.txt").write_text("changed\n")
    assert git.has_changes(clone, "HEAD", ["a.txt"])
    assert git.diff_names(clone, head, ["."]) == ["a.txt"]
    assert git.staged_names(clone, ["."]) == []
    git.add(clone, ["a.txt"])
    assert git.staged_names(clone, ["."]) == ["a.txt"]


def test_tips_reads_several_refs_in_one_go_exactly_as_rev_parse(clone: Path) -> None:
    head = _head(clone)
    sh(clone, "branch", "topic/below")  # the pattern refs/heads/topic lists it: it is not refs/heads/topic
    sh(clone, "tag", "-a", "-m", "annotated", "v1")  # a ref to a tag object: the commit it names
    names = ["refs/heads/main", "refs/remotes/origin/main", "refs/tags/v1", "refs/heads/topic", "refs/heads/none"]
    refs = [git.Ref(r) for r in names]
    found = git.tips(clone, refs)
    assert found == {r: git.rev_parse(clone, r) for r in refs}
    assert list(found.values()) == [head, head, head, None, None]


def test_config_reads_several_prefixes_in_one_go_as_it_reads_each(clone: Path) -> None:
    sh(clone, "config", "coord.instance", "instance-1")
    sh(clone, "config", "merge.coord.driver", "true")
    sh(clone, "config", "merge.other.driver", "false")
    sh(clone, "config", "coordx.name", "not ours")  # a longer name is not under the prefix
    both = git.config(clone, "coord.", "merge.coord.")
    assert both == {**git.config(clone, "coord."), **git.config(clone, "merge.coord.")}
    assert both == {"coord.instance": "instance-1", "merge.coord.driver": "true"}


def test_ahead_behind_counts_each_side_as_rev_list_count_does(clone: Path) -> None:
    base = _head(clone)
    sh(clone, "checkout", "-q", "-b", "other")
    (clone / "b.txt").write_text("theirs\n")
    commit_all(clone, "theirs")
    theirs = _head(clone)
    sh(clone, "checkout", "-q", "main")
    for n in range(2):
        (clone / "a.txt").write_text(f"ours {n}\n")
        commit_all(clone, f"ours {n}")
    ours = _head(clone)
    assert git.ahead_behind(clone, ours, theirs) == (2, 1)
    assert git.ahead_behind(clone, ours, base) == (2, 0)
    assert git.ahead_behind(clone, base, theirs) == (0, 1)
    assert git.ahead_behind(clone, ours, ours) == (0, 0)
    assert git.ahead_behind(clone, ours, theirs) == (
        git.rev_list_count(clone, ours, since=theirs),
        git.rev_list_count(clone, theirs, since=ours),
    )


def test_objects_written_meanwhile_are_the_objects_hash_object_writes(clone: Path) -> None:
    blobs = [b"one\n", b"x" * (3 * 2**20), b""]  # one larger than a pipe holds
    written = git.hash_objects_meanwhile(clone, blobs)
    ids = written()
    assert ids == [git.hash_object(clone, b) for b in blobs]
    assert git.read_blobs(clone, ids) == blobs


def test_a_large_blob_at_the_tip_is_read_from_its_inflated_copy_and_only_its_own(clone: Path) -> None:
    """Its copy is named by its blob id, so a newer version has a copy of its own and replaces the
    old one; a copy cut short is passed over (and made again); a small blob has none."""
    repo = git.discover(clone)
    big = b"x" * git.inflated.LARGE
    (clone / "big.json").write_bytes(big)
    commit_all(clone, "big")
    first = _head(clone)
    spec = [f"{first}:big.json", f"{first}:a.txt", f"{first}:absent"]
    assert git.read_tip_blobs(repo, spec) == [big, b"one\n", None]
    folder = repo.common_dir / git.inflated.DIRECTORY
    [copy] = folder.iterdir()
    assert copy.read_bytes() == big, "the small one has no copy"
    copy.write_bytes(b"x" * 10)  # cut short: a writer killed before the rename leaves no such thing
    assert git.read_tip_blobs(repo, spec[:1]) == [big]
    assert copy.read_bytes() == big, "made again"
    copy.write_bytes(b"y" * git.inflated.LARGE)
    assert git.read_tip_blobs(repo, spec[:1]) == [b"y" * git.inflated.LARGE], "the copy it reads"
    copy.write_bytes(big)
    versions = [big + b"y" * n for n in range(1, git.inflated.KEPT + 1)]
    for version in versions:
        (clone / "big.json").write_bytes(version)
        commit_all(clone, "bigger")
        assert git.read_tip_blobs(repo, [f"{_head(clone)}:big.json"]) == [version]
    assert sorted(p.read_bytes() for p in folder.iterdir()) == versions, "the latest versions of a path are kept"
    assert git.read_tip_blobs(repo, spec[:1]) == [big], "an older one is read from git"


def test_objects_written_meanwhile_raise_what_git_said(tmp_path: Path) -> None:
    written = git.hash_objects_meanwhile(tmp_path, [b"one\n"])  # not a repository
    with pytest.raises(git.GitError) as caught:
        written()
    assert caught.value.cmd[:2] == ["git", "hash-object"]
    assert "not a git repository" in caught.value.stderr


def test_thousands_of_objects_are_read_in_one_go_without_waiting_on_each_other(clone: Path) -> None:
    """More requests than a pipe holds (a first contact asks for the trees of thousands of
    commits): git's answers are read while the request is still being written."""
    head = _head(clone)
    specs = [f"{head}:a.txt"] * 5000
    assert git.read_blobs(clone, specs) == [b"one\n"] * 5000
