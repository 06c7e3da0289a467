"""Import each named module of ours alone, in a forked copy of one warm interpreter.

``python -m tests.support.import_alone MODULE ...`` prints one line per module that fails to
import (``module: ExceptionName: message``) and exits 1 if any did.

What "alone" means here: no other module of ours is loaded when a module is imported, so a
missing import or an import cycle among our modules fails as it would for a user whose first
import is that module. Third-party packages are loaded once, before the forks, because they are
what makes a fresh interpreter slow (FreqTrade alone takes seconds) and they cannot hide a fault
between our modules: a name a module uses must still be imported in that module.
"""

from __future__ import annotations

import importlib
import os
import sys

OURS = ("itb_ext", "user_data", "tests")


def _ours(name: str) -> bool:
    return name.split(".")[0] in OURS


def _in_child(task: str) -> tuple[int, str]:
    """Run ``task`` (an import, or ``*`` for the third-party survey) in a fork: status, output."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do it, write the answer, leave without cleanup
        os.close(read)
        status = 0
        try:
            if task == "*":
                for name in sys.argv[1:]:
                    importlib.import_module(name)
                answer = "\n".join(m for m in list(sys.modules) if not _ours(m))
            else:
                importlib.import_module(task)
                answer = ""
        except BaseException as exc:  # every failure is the answer, SystemExit included
            status, answer = 1, f"{type(exc).__name__}: {exc}".replace("\n", " ")
        with os.fdopen(write, "w", encoding="utf-8") as out:
            out.write(answer)
        os._exit(status)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as answer_in:
        answer = answer_in.read()
    _, status = os.waitpid(pid, 0)
    return status, answer


def main() -> int:
    modules = sys.argv[1:]
    status, survey = _in_child("*")
    if status == 0:
        for name in survey.splitlines():
            try:
                importlib.import_module(name)
            except BaseException:
                continue
    loaded = sorted(m for m in sys.modules if _ours(m) and m != __name__.split(".")[0])
    if any(m.split(".")[0] != "tests" for m in loaded):
        print(f"preloading loaded our modules: {loaded}")
        return 2
    failed = 0
    for module in modules:
        status, error = _in_child(module)
        if status:
            failed += 1
            print(f"{module}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
