from __future__ import annotations

import sys

if __name__ == "__main__":
    # git runs the merge driver once per file per merge: it skips the command-line framework.
    if sys.argv[1:2] == ["merge-driver"]:
        from gitcoord.driver import main as driver

        raise SystemExit(driver(sys.argv[2:]))
    from gitcoord.cli import main

    raise SystemExit(main())
