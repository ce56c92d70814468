"""Typed facts about where code runs (issue 7 C12, C13): code that never runs (type
checking only, `if False:`), platform tests typed windows/macos/linux in their usual
spellings and combinations, flags derived from them or from a fork probe, used in `if` or
in a conditional expression, generic `hasattr`, Python version tests, the main guard.

`facts_at(model, code)` is what `SemanticModel.facts` says at the call, attribute or name
whose source text is `code` (the last one unless told).
"""

from __future__ import annotations

import pytest

from mpcheck.model import FORK_PLATFORMS, PLATFORMS

from .support import find, model_of

WINDOWS = frozenset({"windows"})
MACOS = frozenset({"macos"})
LINUX = frozenset({"linux"})


def site_at(model, code: str, occurrence: int = -1):
    node = find(model, code, occurrence)
    for site in (*model.calls, *model.attributes):
        if site.node is node:
            return site
    reference = model.reference(node)
    assert reference is not None, code
    return reference.site


def facts_at(model, code: str, occurrence: int = -1):
    return model.facts(site_at(model, code, occurrence))


def under(test: str, body: str = "os.fork()", prelude: str = "") -> str:
    return f"import os\nimport sys\nimport platform\nimport multiprocessing as mp\n{prelude}\nif {test}:\n    {body}\n"


PLATFORM_TESTS = {
    "sys-platform-win32": ('sys.platform == "win32"', WINDOWS),
    "sys-platform-not-win32": ('sys.platform != "win32"', FORK_PLATFORMS),
    "sys-platform-darwin": ('sys.platform == "darwin"', MACOS),
    "sys-platform-linux": ('sys.platform == "linux"', LINUX),
    "sys-platform-reversed-operands": ('"win32" == sys.platform', WINDOWS),
    "sys-platform-cygwin": ('sys.platform == "cygwin"', WINDOWS),
    "sys-platform-freebsd": ('sys.platform.startswith("freebsd")', LINUX),
    "startswith-linux": ('sys.platform.startswith("linux")', LINUX),
    "startswith-win": ('sys.platform.startswith("win")', WINDOWS),
    "not-startswith-win": ('not sys.platform.startswith("win")', FORK_PLATFORMS),
    "startswith-tuple": ('sys.platform.startswith(("win", "cygwin"))', WINDOWS),
    "platform-system-lower": ('platform.system().lower() == "windows"', WINDOWS),
    "platform-system-lower-darwin": ('platform.system().lower() != "darwin"', WINDOWS | LINUX),
    "sys-platform-in": ('sys.platform in ("linux", "darwin")', FORK_PLATFORMS),
    "sys-platform-not-in": ('sys.platform not in ("win32", "cygwin")', FORK_PLATFORMS),
    "os-name-nt": ('os.name == "nt"', WINDOWS),
    "os-name-posix": ('os.name == "posix"', FORK_PLATFORMS),
    "os-name-not-nt": ('os.name != "nt"', FORK_PLATFORMS),
    "platform-system-windows": ('platform.system() == "Windows"', WINDOWS),
    "platform-system-darwin": ('platform.system() == "Darwin"', MACOS),
    "platform-system-not-windows": ('platform.system() != "Windows"', FORK_PLATFORMS),
    "platform-system-in": ('platform.system() in ("Linux", "Darwin")', FORK_PLATFORMS),
    "hasattr-os-fork": ('hasattr(os, "fork")', FORK_PLATFORMS),
    "not-hasattr-os-fork": ('not hasattr(os, "fork")', WINDOWS),
    "fork-in-start-methods": ('"fork" in mp.get_all_start_methods()', FORK_PLATFORMS),
    "forkserver-in-start-methods": ('"forkserver" in mp.get_all_start_methods()', FORK_PLATFORMS),
    "get-start-method-fork": ('mp.get_start_method() == "fork"', FORK_PLATFORMS),
    "and-with-unknown": ('sys.platform != "win32" and os.getenv("DAEMON")', FORK_PLATFORMS),
    "unknown-and-platform": ('os.getenv("DAEMON") and os.name == "posix"', FORK_PLATFORMS),
    "or-of-platforms": ('sys.platform == "darwin" or sys.platform.startswith("linux")', FORK_PLATFORMS),
    "or-with-unknown-tells-nothing": ('sys.platform != "win32" or os.getenv("FORCE")', PLATFORMS),
    "not-or": ('not (sys.platform == "win32" or sys.platform == "darwin")', LINUX),
    "not-and": ('not (os.name == "nt" and os.getenv("X"))', PLATFORMS),
    "double-negation": ('not not sys.platform == "darwin"', MACOS),
    # a platform none of the three, or an unknown one: nothing is concluded (not "never runs")
    "unknown-platform-string": ('sys.platform == "emscripten"', PLATFORMS),
    "unrelated-test": ('os.getenv("WORKERS")', PLATFORMS),
}


@pytest.mark.parametrize(("test", "platforms"), PLATFORM_TESTS.values(), ids=PLATFORM_TESTS.keys())
def test_platform_tests_are_typed(test, platforms):
    model = model_of(under(test))
    facts = facts_at(model, "os.fork()")
    assert facts.platforms == platforms
    assert facts.has_fork == (bool(platforms) and platforms <= FORK_PLATFORMS)


@pytest.mark.parametrize(("test", "platforms"), PLATFORM_TESTS.values(), ids=PLATFORM_TESTS.keys())
def test_the_else_branch_has_the_other_platforms(test, platforms):
    """Where the test is false: the complement for a test that says something either way
    (`and`/`or` with an unknown side only tell one way)."""
    source = under(test, "pass") + "else:\n    os.fork()\n"
    model = model_of(source)
    expected = {
        'sys.platform != "win32" and os.getenv("DAEMON")': PLATFORMS,
        'os.getenv("DAEMON") and os.name == "posix"': PLATFORMS,
        'sys.platform != "win32" or os.getenv("FORCE")': WINDOWS,
        'not (os.name == "nt" and os.getenv("X"))': WINDOWS,
        'os.getenv("WORKERS")': PLATFORMS,
        '"fork" in mp.get_all_start_methods()': PLATFORMS,  # absent: not proof of Windows
        'sys.platform == "emscripten"': PLATFORMS,
        '"forkserver" in mp.get_all_start_methods()': PLATFORMS,
        'mp.get_start_method() == "fork"': PLATFORMS,
    }.get(test, PLATFORMS - platforms)
    assert facts_at(model, "os.fork()").platforms == expected


def test_elif_chains_narrow_each_branch():
    model = model_of("""\
        import os
        import sys

        if sys.platform == "win32":
            os.startfile("report.txt")
        elif sys.platform == "darwin":
            os.system("open report.txt")
        else:
            os.system("xdg-open report.txt")
        """)
    assert facts_at(model, "os.startfile").platforms == WINDOWS
    assert facts_at(model, 'os.system("open report.txt")').platforms == MACOS
    assert facts_at(model, 'os.system("xdg-open report.txt")').platforms == LINUX


def test_conditional_expressions_and_boolean_operands_are_conditions():
    model = model_of("""\
        import sys
        import multiprocessing as mp

        ctx = mp.get_context("fork") if sys.platform != "win32" else mp.get_context("spawn")
        other = sys.platform == "win32" or mp.get_context("forkserver")
        first = hasattr(mp, "get_context") and mp.get_context()
        """)
    assert facts_at(model, 'mp.get_context("fork")').has_fork
    assert facts_at(model, 'mp.get_context("spawn")').platforms == WINDOWS
    assert facts_at(model, 'mp.get_context("forkserver")').has_fork
    assert facts_at(model, "mp.get_context()").attributes == {("multiprocessing", "get_context")}


def test_loop_and_comprehension_conditions():
    model = model_of("""\
        import os

        children = [os.fork() for _ in range(2) if hasattr(os, "fork")]
        while hasattr(os, "fork") and len(children) < 4:
            children.append(os.fork())
        """)
    assert facts_at(model, "os.fork()", 0).has_fork
    assert facts_at(model, "os.fork()", -1).has_fork


def test_a_function_defined_under_a_test_keeps_it():
    model = model_of("""\
        import os

        if os.name == "posix":
            def daemonize():
                if os.fork():
                    os._exit(0)
        """)
    assert facts_at(model, "os.fork()").has_fork
    assert facts_at(model, "os._exit(0)").has_fork


def test_a_test_skipped_on_windows_runs_only_where_fork_exists():
    """`@pytest.mark.skipif(test)`, `@unittest.skipIf(test)` and `@unittest.skipUnless(test)`
    put their test on the function, and a class's on its methods; not on the class body
    (it runs when the class is defined), nor pytest's string conditions, `xfail` (the test
    still runs) or a decorator of the project with the same name."""
    model = model_of("""\
        import os
        import sys
        import unittest

        import pytest
        from unittest import skipUnless

        WINDOWS = sys.platform.startswith("win")


        def skipif(condition, reason):
            return lambda function: function


        @pytest.mark.skipif(sys.platform == "win32", reason="fork")
        def test_direct():
            os.fork()


        @pytest.mark.skipif(condition=WINDOWS, reason="fork")
        def test_flag():
            os.fork()


        @unittest.skipIf(os.name == "nt", "fork")
        def test_unittest():
            os.fork()


        @skipUnless(hasattr(os, "fork"), "fork")
        class ForkTests(unittest.TestCase):
            at_definition = os.fork

            def test_fork(self):
                os.fork()

                def nested():
                    os.fork()


        @pytest.mark.skipif("sys.platform == 'win32'")
        def test_string():
            os.fork()


        @pytest.mark.xfail(sys.platform == "win32", reason="fork")
        def test_xfail():
            os.fork()


        @skipif(sys.platform == "win32", reason="not the decorator of pytest")
        def test_own():
            os.fork()


        def test_imperative():
            if WINDOWS:
                pytest.skip("fork")
            os.fork()
        """)
    skipped = [facts_at(model, "os.fork()", occurrence).has_fork for occurrence in range(5)]
    assert skipped == [True, True, True, True, True]
    assert not facts_at(model, "os.fork", 3).has_fork  # the class body's
    kept = [facts_at(model, "os.fork()", occurrence) for occurrence in (5, 6, 7)]
    assert [(facts.has_fork, facts.runs) for facts in kept] == [(False, True)] * 3
    assert facts_at(model, "os.fork()", 8).has_fork


def test_a_module_s_pytestmark_skips_its_tests_and_fixtures_not_its_helpers():
    """`pytestmark = pytest.mark.skipif(...)` (or a list holding one) is put by pytest on every
    test of the module and so on the fixtures they use; module-level code and helpers may run
    when the module is imported, on Windows too."""
    model = model_of("""\
        import os
        import sys

        import pytest

        pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="fork")]

        at_import = os.fork


        def _helper():
            os.fork()


        @pytest.fixture
        def forked():
            os.fork()


        def test_fork():
            os.fork()


        class TestFork:
            def test_method(self):
                os.fork()

            def helper(self):
                os.fork()


        class Other:
            def test_not_collected(self):
                os.fork()
        """)
    assert not facts_at(model, "os.fork", 0).has_fork
    forks = [facts_at(model, "os.fork()", occurrence).has_fork for occurrence in range(6)]
    assert forks == [False, True, True, True, False, False]


# -- code that never runs ------------------------------------------------------------------

INDENTED_FORK_IMPORT = "    from multiprocessing.context import ForkProcess\n"
NEVER_RUNS = {  # what comes before the indented import
    "type-checking": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n",
    "typing-type-checking": "import typing\n\nif typing.TYPE_CHECKING:\n",
    "typing-extensions": "import typing_extensions as te\n\nif te.TYPE_CHECKING:\n",
    "else-of-not-type-checking": "from typing import TYPE_CHECKING\n\nif not TYPE_CHECKING:\n    pass\nelse:\n",
    "if-false": "if False:\n",
    "if-zero": "if 0:\n",
    "while-false": "while False:\n",
    "and-false": "import os\n\nif os.name == 'posix' and False:\n",
}


@pytest.mark.parametrize("source", NEVER_RUNS.values(), ids=NEVER_RUNS.keys())
def test_code_that_never_runs(source):
    model = model_of(source + INDENTED_FORK_IMPORT)
    binding = next(binding for binding in model.imports if binding.name == "ForkProcess")
    assert not model.runs_at_runtime(binding.site)
    assert not model.runs_at_import(binding.site)


RUNS = {
    "if-true": "if True:\n",
    "else-of-type-checking": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    pass\nelse:\n",
    "user-flag-false": "DEBUG = False\n\nif DEBUG:\n",
    "local-type-checking-name": "TYPE_CHECKING = True\n\nif TYPE_CHECKING:\n",
    "or-false": "import os\n\nif os.getenv('X') or False:\n",
}


@pytest.mark.parametrize("source", RUNS.values(), ids=RUNS.keys())
def test_code_that_runs(source):
    model = model_of(source + INDENTED_FORK_IMPORT)
    binding = next(binding for binding in model.imports if binding.name == "ForkProcess")
    assert model.runs_at_runtime(binding.site)


def test_annotations_run_only_where_python_evaluates_them():
    plain = """\
        from multiprocessing.context import ForkProcess as FP

        worker: FP = None

        def start(process: FP) -> FP:
            local: FP = process
            return local
        """
    model = model_of(plain)
    assert model.runs_at_runtime(site_at(model, "FP", 1))  # a module-level annotation
    assert model.runs_at_runtime(site_at(model, "FP", 2))  # a parameter's, when the def runs
    assert not model.runs_at_runtime(site_at(model, "FP", 4))  # a local variable's: never
    postponed = model_of("from __future__ import annotations\n" + plain.replace("        ", ""))
    assert not any(postponed.runs_at_runtime(site_at(postponed, "FP", index)) for index in (1, 2, 3, 4))


# -- flags ------------------------------------------------------------------------------------

FLAGS = {
    "is-windows": ('IS_WINDOWS = sys.platform == "win32"\n', "not IS_WINDOWS", FORK_PLATFORMS),
    "is-windows-true": ('IS_WINDOWS = os.name == "nt"\n', "IS_WINDOWS", WINDOWS),
    "is-windows-startswith": ('IS_WINDOWS = sys.platform.startswith("win")\n', "not IS_WINDOWS", FORK_PLATFORMS),
    "is-posix": ('POSIX = os.name == "posix"\n', "POSIX", FORK_PLATFORMS),
    "has-fork-hasattr": ('HAS_FORK = hasattr(os, "fork")\n', "HAS_FORK", FORK_PLATFORMS),
    "fork-in-methods": ('CAN_FORK = "fork" in mp.get_all_start_methods()\n', "CAN_FORK", FORK_PLATFORMS),
    "flag-of-flag": ('IS_WINDOWS = os.name == "nt"\nIS_POSIX = not IS_WINDOWS\n', "IS_POSIX", FORK_PLATFORMS),
    "set-in-branches": (
        'if sys.platform == "win32":\n    CAN_FORK = False\nelse:\n    CAN_FORK = True\n', "CAN_FORK", FORK_PLATFORMS),
    "set-in-branches-negated": (
        'if sys.platform == "win32":\n    CAN_FORK = False\nelse:\n    CAN_FORK = True\n', "not CAN_FORK", WINDOWS),
    "default-then-branch": ('USE_FORK = False\nif os.name == "posix":\n    USE_FORK = True\n', "USE_FORK", FORK_PLATFORMS),
    "probe": (
        'try:\n    mp.get_context("fork")\n    HAVE_FORK = True\nexcept ValueError:\n    HAVE_FORK = False\n',
        "HAVE_FORK", FORK_PLATFORMS),
    "probe-else-clause": (
        'try:\n    mp.get_context("fork")\nexcept ValueError:\n    HAVE_FORK = False\nelse:\n    HAVE_FORK = True\n',
        "HAVE_FORK", FORK_PLATFORMS),
    "probe-import": (
        "try:\n    from multiprocessing.context import ForkProcess\n    FORK_AVAILABLE = True\n"
        "except ImportError:\n    FORK_AVAILABLE = False\n", "FORK_AVAILABLE", FORK_PLATFORMS),
    "probe-os-fork-attribute": (
        "try:\n    os.fork\n    HAVE_FORK = True\nexcept AttributeError:\n    HAVE_FORK = False\n", "HAVE_FORK",
        FORK_PLATFORMS),
    "probe-negated": (
        'try:\n    mp.get_context("fork")\n    NO_FORK = False\nexcept ValueError:\n    NO_FORK = True\n',
        "not NO_FORK", FORK_PLATFORMS),
    "flag-from-environment": ('USE_FORK = os.getenv("USE_FORK") == "1"\n', "USE_FORK", PLATFORMS),
    "flag-reassigned-later": ('IS_WINDOWS = os.name == "nt"\nIS_WINDOWS = bool(os.getenv("WIN"))\n',
                              "not IS_WINDOWS", PLATFORMS),
    "assignment-before-the-probe-proves-nothing": (
        'try:\n    HAVE_FORK = True\n    mp.get_context("fork")\nexcept ValueError:\n    HAVE_FORK = False\n',
        "HAVE_FORK", PLATFORMS),
}


@pytest.mark.parametrize(("prelude", "test", "platforms"), FLAGS.values(), ids=FLAGS.keys())
def test_flags_tell_what_their_own_test_would(prelude, test, platforms):
    model = model_of(under(test, prelude=prelude))
    assert facts_at(model, "os.fork()").platforms == platforms


MPIRE = """\
import multiprocessing as mp

# Check if fork is available as start method. It's not available on Windows machines
try:
    mp.get_context('fork')
    FORK_AVAILABLE = True
except ValueError:
    FORK_AVAILABLE = False

DEFAULT_START_METHOD = 'fork' if FORK_AVAILABLE else 'spawn'

MP_CONTEXTS = {'mp': {'fork': mp.get_context('fork') if FORK_AVAILABLE else None,
                      'forkserver': mp.get_context('forkserver') if FORK_AVAILABLE else None,
                      'spawn': mp.get_context('spawn')}}


def start(method=DEFAULT_START_METHOD):
    if FORK_AVAILABLE:
        return MP_CONTEXTS['mp'][method].Process
    return mp.get_context('spawn').Process
"""


def test_the_mpire_shape_a_probe_flag_in_a_conditional_expression():
    model = model_of(MPIRE)
    probe = site_at(model, "mp.get_context('fork')", 0)
    assert not model.fork_is_guarded(probe)  # the probe itself runs everywhere...
    assert model.fork_is_guarded(probe, ("ValueError",))  # ...inside a try that catches its error
    assert facts_at(model, "mp.get_context('fork')", 1).has_fork
    assert facts_at(model, "mp.get_context('forkserver')").has_fork
    assert not facts_at(model, "mp.get_context('spawn')", 0).has_fork
    assert facts_at(model, "MP_CONTEXTS['mp'][method].Process").has_fork  # in a function: the flag's final value


def test_fork_is_guarded_by_a_try_that_catches_the_error_it_raises():
    model = model_of("""\
        import os

        try:
            pid = os.fork()
        except AttributeError:
            pid = None
        try:
            os.forkpty()
        except KeyError:
            pass
        """)
    assert model.fork_is_guarded(site_at(model, "os.fork()"), ("AttributeError",))
    assert not model.fork_is_guarded(site_at(model, "os.forkpty()"), ("AttributeError",))


# -- attributes, versions and the main guard ----------------------------------------------------


def test_hasattr_records_the_attribute_on_any_platform():
    model = model_of("""\
        import socket

        sock = socket.socket()
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        """)
    guarded = facts_at(model, "socket.SO_REUSEPORT")
    assert guarded.attributes == {("socket", "SO_REUSEPORT")}
    assert guarded.platforms == PLATFORMS  # SO_REUSEPORT is not a fork fact
    assert facts_at(model, "socket.SO_REUSEADDR").attributes == frozenset()


VERSIONS = {
    ">= (3, 13)": ((3, 13), (99, 0)),
    "> (3, 12)": ((3, 13), (99, 0)),
    "< (3, 12)": ((0, 0), (3, 12)),
    "<= (3, 11)": ((0, 0), (3, 12)),
    ">= (3, 8, 1)": ((3, 8), (99, 0)),
}


@pytest.mark.parametrize(("comparison", "versions"), VERSIONS.items(), ids=VERSIONS.keys())
def test_version_tests_give_a_range(comparison, versions):
    model = model_of(f"""\
        import sys
        from multiprocessing import shared_memory

        if sys.version_info {comparison}:
            block = shared_memory.SharedMemory(name="frames", track=False)
        else:
            block = shared_memory.SharedMemory(name="frames")
        """)
    inside = facts_at(model, "shared_memory.SharedMemory", 0)
    outside = facts_at(model, "shared_memory.SharedMemory", -1)
    assert inside.versions == versions
    complement = ((0, 0), versions[0]) if versions[1] == (99, 0) else (versions[1], (99, 0))
    assert outside.versions == complement


MAIN_GUARDS = {
    "plain": ('if __name__ == "__main__":\n    main()\n', True),
    "single-quotes": ("if __name__ == '__main__':\n    main()\n", True),
    "reversed": ('if "__main__" == __name__:\n    main()\n', True),
    "and-another-test": ('if __name__ == "__main__" and len(sys.argv) > 1:\n    main()\n', True),
    "not-equal": ('if __name__ != "__main__":\n    main()\n', False),
    "other-module": ('if __name__ == "app":\n    main()\n', False),
    "or-another-test": ('if __name__ == "__main__" or len(sys.argv) > 1:\n    main()\n', False),
    "shadowed-name": ('__name__ = "__main__"\nif __name__ != "x":\n    main()\n', False),
}


@pytest.mark.parametrize(("guard", "is_guard"), MAIN_GUARDS.values(), ids=MAIN_GUARDS.keys())
def test_main_guards(guard, is_guard):
    model = model_of("import sys\nfrom multiprocessing import Pool\n\ndef main():\n    Pool(2)\n\n" + guard)
    call = site_at(model, "main()")
    assert model.under_main_guard(call) == is_guard
    assert model.runs_at_import(call) != is_guard
    assert model.is_main_guard(model.module.body[-1]) == is_guard


def test_runs_at_import_excludes_function_bodies():
    model = model_of("""\
        from multiprocessing import Pool

        def main():
            with Pool(2) as pool:
                pool.map(abs, [1])

        pool = Pool(2)
        """)
    assert not model.runs_at_import(site_at(model, "Pool(2)", 0))
    assert model.runs_at_import(site_at(model, "Pool(2)", -1))


def test_a_disjunction_left_with_one_alternative_tells_that_one():
    model = model_of("""\
        import socket

        def bind(reuse_port):
            if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
                raise ValueError("the platform doesn't support SO_REUSEPORT")
            sock = socket.socket()
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 2)
        """)
    assert facts_at(model, "socket.SO_REUSEPORT", 0).attributes == {("socket", "SO_REUSEPORT")}
    # Without `reuse_port` known to be true, either alternative may hold.
    assert facts_at(model, "socket.SO_REUSEPORT", -1).attributes == frozenset()
