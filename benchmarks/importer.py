"""Writing a simulated history into a repository quickly, as the same objects the commands make.

`git fast-import` deltifies each blob against the blob it wrote just before, whatever its
path; a step changes two or three files, so one importer for everything would delta the
message log against the task queue and keep nearly whole copies. So each live file gets an
importer of its own, which sees nothing but that file's versions (each a small delta on the
one before), and a last importer writes the commits and trees, naming the blobs by id. It
can name only blobs already in a finished pack, so the history goes in a month at a time:
the blob importers finish their month's pack (a checkpoint), then the month's commits follow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

from gitcoord import model
from gitcoord import store


class _FastImport:
    def __init__(self, repo: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--date-format=raw", "--done"],
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.marks = 0

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def checkpoint(self) -> None:
        """Finish the current pack, and wait until its objects are there for the other importers."""
        assert self.proc.stdout is not None
        self.marks += 1
        self.write(b"checkpoint\n\nprogress %d\n\n" % self.marks)
        assert self.proc.stdin is not None
        self.proc.stdin.flush()
        while self.proc.stdout.readline().strip() != b"progress %d" % self.marks:
            if self.proc.poll() is not None:
                raise RuntimeError("git fast-import stopped")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.write(b"done\n")
        self.proc.stdin.close()
        assert self.proc.stdout is not None
        self.proc.stdout.read()
        if self.proc.wait() != 0:
            raise RuntimeError("git fast-import failed")


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's object id


class Importer:
    """Commits on `ref`, after its tip, each as `coord`'s commit-tree would write it."""

    def __init__(self, repo: Path, ident: str, env: dict[str, str], ref: str) -> None:
        self.ident = ident  # "Name <email>", as the clone's configuration gives it
        self.ref = ref.encode()
        self.blobs = {f: _FastImport(repo, env) for f in (*model.FILES, model.ARCHIVE)}
        self.commits = _FastImport(repo, env)
        self.pending: list[bytes] = []
        self.first = True

    def commit(self, message: str, when: dt.datetime, files: dict[str, bytes]) -> None:
        stamp = f"{self.ident} {int(when.timestamp())} +0000"
        body = message.encode()
        parts = [b"commit %s\n" % self.ref, f"author {stamp}\ncommitter {stamp}\n".encode()]
        parts.append(b"data %d\n%s\n" % (len(body), body))
        if self.first:
            parts.append(b"from %s^0\n" % self.ref)
            self.first = False
        for file, data in files.items():
            sink = self.blobs[file if file in self.blobs else model.ARCHIVE]
            sink.write(b"blob\ndata %d\n%s\n" % (len(data), data))
            parts.append(b"M 100644 %s %s\n" % (blob_id(data).encode(), store.repo_path(file).encode()))
        self.pending.append(b"".join(parts) + b"\n")

    def checkpoint(self) -> None:
        """Write the commits held back, once the packs of their blobs are finished."""
        for sink in self.blobs.values():
            sink.checkpoint()
        self.commits.write(b"".join(self.pending))
        self.pending.clear()
        self.commits.checkpoint()

    def close(self) -> None:
        self.checkpoint()
        for sink in (*self.blobs.values(), self.commits):
            sink.close()
