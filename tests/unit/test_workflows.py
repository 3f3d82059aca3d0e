"""Which gitcoord the workflows install, and the code CI's push trigger told to skip coordination."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitcoord import workflows
from gitcoord.errors import FatalError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _spec(direct: dict[str, object] | None) -> workflows.Spec:
    return workflows.from_direct_url(direct, "0.1.0", root=Path("/nowhere"), same_branch=False)


def test_an_index_install_is_its_release() -> None:
    assert _spec(None) == workflows.Spec("gitcoord==0.1.0", "installed from a package index")


def test_a_git_install_is_pinned_to_its_commit() -> None:
    found = _spec({"url": "https://github.com/o/gitcoord", "vcs_info": {"vcs": "git", "commit_id": COMMIT}})
    assert found.requirement == f"gitcoord @ git+https://github.com/o/gitcoord@{COMMIT}"
    assert found.warning == ""
    local = _spec({"url": "file:///src/gitcoord", "vcs_info": {"vcs": "git", "commit_id": COMMIT}})
    assert local.warning == "file:///src/gitcoord is not a URL a runner can reach; give one with --install SPEC"


def test_an_archive_install_keeps_its_hash() -> None:
    found = _spec({"url": "https://example.com/g.whl", "archive_info": {"hashes": {"sha256": "ab" * 32}}})
    assert found.requirement == f"gitcoord @ https://example.com/g.whl#sha256={'ab' * 32}"


def test_a_directory_in_the_repository_is_a_path_beside_the_code(tmp_path: Path) -> None:
    (tmp_path / "vendor" / "gitcoord").mkdir(parents=True)
    direct = {"url": (tmp_path / "vendor" / "gitcoord").as_uri(), "dir_info": {"editable": True}}
    found = workflows.from_direct_url(direct, "0.1.0", root=tmp_path, same_branch=True)
    assert found.requirement == "./vendor/gitcoord"
    # The store's own branch holds no code: the path would not be there.
    elsewhere = workflows.from_direct_url(direct, "0.1.0", root=tmp_path, same_branch=False)
    assert elsewhere.requirement == "gitcoord==0.1.0"
    assert "is not a git checkout" in elsewhere.warning


@pytest.mark.parametrize(
    ("remote", "https"),
    [
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("git@github.com:o/r.git", "https://github.com/o/r.git"),
        ("ssh://git@example.com/o/r.git", "https://example.com/o/r.git"),
        ("/srv/git/r.git", None),
        ("../r.git", None),
    ],
)
def test_remotes_as_https(remote: str, https: str | None) -> None:
    assert workflows.https_url(remote) == https


@pytest.mark.parametrize("bad", ["", "a\nb", "-e .", "--index-url https://evil.example"])
def test_install_takes_one_requirement(bad: str) -> None:
    with pytest.raises(FatalError, match="give one pip requirement"):
        workflows.given(bad)


IGNORE = {"paths-ignore": ["coordination/**"]}


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("on: push\njobs: {}\n", {"push": IGNORE}),
        ("on: [push, pull_request]\njobs: {}\n", {"push": IGNORE, "pull_request": None}),
        ("on:\n  push:\n  pull_request:\njobs: {}\n", {"push": IGNORE, "pull_request": None}),
        (
            "on:\n    push:\n        branches: [main]  # the code\njobs: {}\n",
            {"push": {"branches": ["main"], **IGNORE}},
        ),
        (
            '"on":\n  pull_request:\n  push:\n    tags: [v*]\njobs: {}\n',
            {"pull_request": None, "push": {"tags": ["v*"], **IGNORE}},
        ),
    ],
)
def test_code_ci_skips_pushes_of_coordination_alone(text: str, wanted: dict[str, object]) -> None:
    edited = workflows.skip_coordination_pushes(text)
    assert edited is not None
    assert yaml.safe_load(edited)[True if not text.startswith('"on"') else "on"] == wanted
    assert workflows.skip_coordination_pushes(edited) is None, "once is enough"


@pytest.mark.parametrize(
    "text",
    [
        "on: pull_request\njobs: {}\n",  # pull requests keep the code CI: a skipped required check never reports
        "on:\n  push:\n    paths: [src/**]\njobs: {}\n",
        "on: {push: {branches: [main]}}\njobs: {}\n",  # a form not edited line by line
        "on: [push\n",
        "- not a workflow\n",
    ],
)
def test_code_ci_left_alone(text: str) -> None:
    assert workflows.skip_coordination_pushes(text) is None


def test_every_workflow_that_judges_a_range_judges_it_from_the_human_key_when_given() -> None:
    """The validation of every push and the merge of decision pull requests both replay commits:
    each passes the repository variable COORD_HUMAN_KEY, when set, as `--trust`."""
    templates = Path(workflows.__file__).parent / "templates"
    judged = []
    for path in sorted(templates.glob("*.yml")):
        text = workflows.render(path.name, "coord", same_branch=False)
        for job in yaml.safe_load(text)["jobs"].values():
            for step in job["steps"]:
                if "coord check --range" in step.get("run", ""):
                    judged.append(path.name)
                    assert step["env"]["TRUST"] == "${{ vars.COORD_HUMAN_KEY }}", path.name
                    assert '${TRUST:+--trust "$TRUST"}' in step["run"], path.name
    assert judged == ["coord-decisions-merge.yml", "coord-validate.yml"]
