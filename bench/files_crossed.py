"""How many oblivio source files one command executes code in: a profile hook records the file
of every oblivio function called while the command runs (import-time module and class bodies
excluded: a file counts when one of its functions runs). A measure of how far a command's path spreads
(issue #22: "files a `oblivio unlearn` crosses").

Usage (tiny world, the world's models cached first so learning is not counted):
  python bench/files_crossed.py [-- extra oblivio args]
Prints the count and the files, sorted; the default command is
  oblivio unlearn --set world.preset=tiny --method npo --steps 2 --no-eval --out <tmp>
"""
from __future__ import annotations

import inspect
import sys
import tempfile
from pathlib import Path


def crossed(argv: list[str]) -> list[str]:
    import oblivio
    from oblivio.cli import run
    root = str(Path(oblivio.__file__).parent)
    seen: set[str] = set()

    def hook(frame, event, arg):   # noqa: ANN001 - sys.setprofile's signature
        if event == "call":
            f = frame.f_code.co_filename
            # a function's code (CO_NEWLOCALS), not a module's or a class's body run at import
            if f.startswith(root) and frame.f_code.co_flags & inspect.CO_NEWLOCALS:
                seen.add(f[len(root) + 1:])
    sys.setprofile(hook)
    try:
        run(argv)
    finally:
        sys.setprofile(None)
    return sorted(seen)


def main() -> None:
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    with tempfile.TemporaryDirectory() as tmp:
        base = ["unlearn", "--set", "world.preset=tiny", "--method", "npo", "--steps", "2", "--no-eval", "--quiet"]
        from oblivio.cli import run
        run(["learn", "--preset", "tiny", "--quiet"])          # the world's models, cached
        files = crossed([*base, "--out", str(Path(tmp) / "run"), *extra])
    print(f"{len(files)} files")
    for f in files:
        print(f"  {f}")


if __name__ == "__main__":
    main()
