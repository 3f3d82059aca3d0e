"""Every git call gitcoord makes. Nothing outside this package runs git.

git is driven through its command line: plumbing for the coordination branch, so that an
instance on any branch, in any worktree, commits coordination events without touching its
checkout; porcelain only where a person's working tree must follow.

Each command line is built in this package by a named function and runs with git's
messages in English (`LC_ALL=C`), so that the failures worth telling apart are classified
here, once, into the exceptions of `git.errors`; callers never read git's prose.
Callers use the names below: `from gitcoord import git`, then `git.fetch(...)`.
"""

from __future__ import annotations

from gitcoord.git._process import clean_env
from gitcoord.git.errors import FetchFailed
from gitcoord.git.errors import GitError
from gitcoord.git.errors import GitMissing
from gitcoord.git.errors import IndexLocked
from gitcoord.git.errors import Locked
from gitcoord.git.errors import MergeTreeConflict
from gitcoord.git.errors import NoIdentity
from gitcoord.git.errors import NotARepository
from gitcoord.git.errors import PushFailed
from gitcoord.git.errors import PushRejected
from gitcoord.git.errors import RefAmbiguous
from gitcoord.git.errors import RefLocked
from gitcoord.git.errors import RemoteLocked
from gitcoord.git.errors import RemoteRefMissing
from gitcoord.git.errors import SigningFailed
from gitcoord.git.errors import TimedOut
from gitcoord.git.errors import WouldOverwrite
from gitcoord.git.inflated import read_tip_blobs
from gitcoord.git.maintenance import Loose
from gitcoord.git.maintenance import fetch_tip
from gitcoord.git.maintenance import loose_objects
from gitcoord.git.maintenance import repack_loose
from gitcoord.git.maintenance import write_commit_graph
from gitcoord.git.objects import commit_tree
from gitcoord.git.objects import hash_object
from gitcoord.git.objects import hash_objects_meanwhile
from gitcoord.git.objects import merge_tree
from gitcoord.git.objects import object_ids
from gitcoord.git.objects import read_blobs
from gitcoord.git.refs import Change
from gitcoord.git.refs import Commit
from gitcoord.git.refs import LogEntry
from gitcoord.git.refs import Ref
from gitcoord.git.refs import Sha
from gitcoord.git.refs import ahead_behind
from gitcoord.git.refs import author
from gitcoord.git.refs import branch_tips
from gitcoord.git.refs import changes
from gitcoord.git.refs import commit_date
from gitcoord.git.refs import commits
from gitcoord.git.refs import delete_refs
from gitcoord.git.refs import first_parent_before
from gitcoord.git.refs import head_branch
from gitcoord.git.refs import introduced
from gitcoord.git.refs import is_ancestor
from gitcoord.git.refs import is_branch_name
from gitcoord.git.refs import last_deleted
from gitcoord.git.refs import last_touched
from gitcoord.git.refs import log
from gitcoord.git.refs import merge_base
from gitcoord.git.refs import merge_bases
from gitcoord.git.refs import merges
from gitcoord.git.refs import path_history
from gitcoord.git.refs import ref_names
from gitcoord.git.refs import reflog
from gitcoord.git.refs import refs_containing
from gitcoord.git.refs import refs_under
from gitcoord.git.refs import rev_list
from gitcoord.git.refs import rev_list_count
from gitcoord.git.refs import rev_parse
from gitcoord.git.refs import root_commits
from gitcoord.git.refs import symbolic_ref
from gitcoord.git.refs import tips
from gitcoord.git.refs import update_ref
from gitcoord.git.refs import worktree_of
from gitcoord.git.remote import deepen
from gitcoord.git.remote import fetch
from gitcoord.git.remote import fetch_within
from gitcoord.git.remote import ls_remote
from gitcoord.git.remote import push
from gitcoord.git.remote import push_atomic
from gitcoord.git.remote import remote_url
from gitcoord.git.repo import Repo
from gitcoord.git.repo import add_remote
from gitcoord.git.repo import check_attr
from gitcoord.git.repo import clone
from gitcoord.git.repo import config
from gitcoord.git.repo import config_bool
from gitcoord.git.repo import config_values
from gitcoord.git.repo import discover
from gitcoord.git.repo import hooks_dir
from gitcoord.git.repo import init
from gitcoord.git.repo import is_bare
from gitcoord.git.repo import is_shallow
from gitcoord.git.repo import set_config
from gitcoord.git.repo import version
from gitcoord.git.signatures import SignatureCheck
from gitcoord.git.signatures import can_sign
from gitcoord.git.signatures import committer_times
from gitcoord.git.signatures import message_trailers
from gitcoord.git.signatures import signatures
from gitcoord.git.signatures import trailer_values
from gitcoord.git.trees import LINK
from gitcoord.git.trees import TreeEntry
from gitcoord.git.trees import blobs_under
from gitcoord.git.trees import drop_paths
from gitcoord.git.trees import exist
from gitcoord.git.trees import ls_tree
from gitcoord.git.trees import mktree
from gitcoord.git.trees import paths_under
from gitcoord.git.trees import top_entries
from gitcoord.git.trees import tree_ids
from gitcoord.git.trees import tree_listings
from gitcoord.git.trees import write_tree
from gitcoord.git.worktree import add
from gitcoord.git.worktree import changed_paths
from gitcoord.git.worktree import commit
from gitcoord.git.worktree import diff_names
from gitcoord.git.worktree import ff_merge
from gitcoord.git.worktree import follow
from gitcoord.git.worktree import has_changes
from gitcoord.git.worktree import index_blobs
from gitcoord.git.worktree import interpret_trailers
from gitcoord.git.worktree import lock_file
from gitcoord.git.worktree import paths_changed_by
from gitcoord.git.worktree import pull_ff
from gitcoord.git.worktree import reset_hard
from gitcoord.git.worktree import staged_names
from gitcoord.git.worktree import switch_new
from gitcoord.git.worktree import text_merge
from gitcoord.git.worktree import untracked
from gitcoord.git.worktree import worktree_add
from gitcoord.git.worktree import worktree_remove

__all__ = [
    "LINK",
    "Change",
    "Commit",
    "FetchFailed",
    "GitError",
    "GitMissing",
    "IndexLocked",
    "Locked",
    "LogEntry",
    "Loose",
    "MergeTreeConflict",
    "NoIdentity",
    "NotARepository",
    "PushFailed",
    "PushRejected",
    "Ref",
    "RefAmbiguous",
    "RefLocked",
    "RemoteLocked",
    "RemoteRefMissing",
    "Repo",
    "Sha",
    "SignatureCheck",
    "SigningFailed",
    "TimedOut",
    "TreeEntry",
    "WouldOverwrite",
    "add",
    "add_remote",
    "ahead_behind",
    "author",
    "blobs_under",
    "branch_tips",
    "can_sign",
    "changed_paths",
    "changes",
    "check_attr",
    "clean_env",
    "clone",
    "commit",
    "commit_date",
    "commit_tree",
    "commits",
    "committer_times",
    "config",
    "config_bool",
    "config_values",
    "deepen",
    "delete_refs",
    "diff_names",
    "discover",
    "drop_paths",
    "exist",
    "fetch",
    "fetch_tip",
    "fetch_within",
    "ff_merge",
    "first_parent_before",
    "follow",
    "has_changes",
    "hash_object",
    "hash_objects_meanwhile",
    "head_branch",
    "hooks_dir",
    "index_blobs",
    "init",
    "interpret_trailers",
    "introduced",
    "is_ancestor",
    "is_bare",
    "is_branch_name",
    "is_shallow",
    "last_deleted",
    "last_touched",
    "lock_file",
    "log",
    "loose_objects",
    "ls_remote",
    "ls_tree",
    "merge_base",
    "merge_bases",
    "merge_tree",
    "merges",
    "message_trailers",
    "mktree",
    "object_ids",
    "path_history",
    "paths_changed_by",
    "paths_under",
    "pull_ff",
    "push",
    "push_atomic",
    "read_blobs",
    "read_tip_blobs",
    "ref_names",
    "reflog",
    "refs_containing",
    "refs_under",
    "remote_url",
    "repack_loose",
    "reset_hard",
    "rev_list",
    "rev_list_count",
    "rev_parse",
    "root_commits",
    "set_config",
    "signatures",
    "staged_names",
    "switch_new",
    "symbolic_ref",
    "text_merge",
    "tips",
    "top_entries",
    "trailer_values",
    "tree_ids",
    "tree_listings",
    "untracked",
    "update_ref",
    "version",
    "worktree_add",
    "worktree_of",
    "worktree_remove",
    "write_commit_graph",
    "write_tree",
]
