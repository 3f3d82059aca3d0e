"""A small process that runs the measured commands, so that their peak memory is their own.

A child's peak resident size (getrusage) includes what it inherited before exec: forked
from the benchmark process, which holds the generated stores, every child would report
that process's size. Forked from this one, which imports almost nothing, it does not.
Protocol: one JSON request per line in ({"command", "cwd", "env"}), one result per line out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        start = time.perf_counter()
        proc = subprocess.Popen(
            request["command"],
            cwd=request["cwd"],
            env=request["env"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        stderr = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.stderr:
            proc.stderr.close()
        result = {
            "seconds": elapsed,
            "peak_bytes": usage.ru_maxrss * 1024,
            "code": proc.returncode,
            "stderr": stderr.decode(errors="replace")[-2000:],
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
