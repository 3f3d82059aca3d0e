from __future__ import annotations

from gitcoord.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
