"""MP601 and `logging.lastResort`: a warning logged at package import on a logger that no
handler takes is written to stderr by logging itself (Logger.callHandlers), in the parent and
again in every spawned worker. Each case below is a package whose submodule logs while
`__init__.py` imports it; the silent ones are what keeps the record from lastResort (a
handler, a NullHandler too, on the logger or one above it; a level; logging.disable), and
each would be flagged if the check for it were dropped (docs/facts.md 13.14)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import mpcheck
from mpcheck.cli import main

from .oracle import SIMULATED_WINDOWS, START_METHODS, Program, interpreters, run_program

FIXTURE = Path(__file__).resolve().parent / "data" / "mp601_last_resort"
WARNING = 'logger.warning("turbojpeg is missing: slow JPEG decoding")'


def _package(tmp_path: Path, codecs: str, init_setup: str = "") -> Path:
    """photokit/__init__.py imports photokit/codecs.py at import time; `codecs` is the body
    of codecs.py after `import logging`."""
    files = {
        "pyproject.toml": "[project]\nname = 'photokit'\n",
        "photokit/__init__.py": (
            '"""photokit: thumbnails for a photo library."""\n\nimport logging\n\n'
            f"{init_setup}\n"
            "from . import codecs\n\n__version__ = '1.2'\n"
        ),
        "photokit/codecs.py": f'"""Image codecs."""\n\nimport logging\n\n{codecs}',
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _findings(root: Path, name: str = "photokit/codecs.py") -> list[tuple[int, str]]:
    path = root / name
    return [(d.line, d.message) for d in mpcheck.check_source(path.read_text(), str(path)) if d.code == "MP601"]


def _last_line(path: Path) -> int:
    return len(path.read_text().rstrip().splitlines())


def _probe(setup: str = "", call: str = WARNING, logger: str = "logging.getLogger(__name__)") -> str:
    return (f"logger = {logger}\n{setup}\n"
            f"try:\n    import turbojpeg\nexcept ImportError:\n    {call}\n")


FLAGGED = {
    "a named logger with no handler": _probe(),
    "the root logger's own method": _probe(logger="logging.getLogger()"),
    "error(), above WARNING": _probe(call='logger.error("no JPEG decoder")'),
    "log(logging.WARNING, ...)": _probe(call='logger.log(logging.WARNING, "no JPEG decoder")'),
    "exception()": _probe(call='logger.exception("no JPEG decoder")'),
    "the logger's name as a string": _probe(logger='logging.getLogger("photokit.codecs")'),
    # propagate = False stops at the logger, which has no handler: lastResort still takes it.
    "propagate = False": _probe("logger.propagate = False"),
    # A handler on a sibling whose name starts the same is no ancestor.
    "a NullHandler on a sibling logger": _probe('logging.getLogger("photokit.codec").addHandler(logging.NullHandler())'),
    # A level that lets the warning through.
    "setLevel(WARNING)": _probe("logger.setLevel(logging.WARNING)"),
    "error() above the level set": _probe("logger.setLevel(logging.ERROR)", 'logger.error("no JPEG decoder")'),
    "logging.disable(INFO)": _probe("logging.disable(logging.INFO)"),
}


@pytest.mark.parametrize("codecs", FLAGGED.values(), ids=FLAGGED.keys())
def test_a_warning_lastresort_writes_is_flagged(tmp_path, codecs):
    root = _package(tmp_path, codecs)
    [(line, message)] = _findings(root)
    assert line == _last_line(root / "photokit/codecs.py")
    assert "no handler configured for its logger (`logging.lastResort` writes it to stderr)" in message
    assert "its `__init__.py` imports this module" in message


def test_a_handler_added_after_the_warning_does_not_take_it(tmp_path):
    codecs = _probe() + "\nlogger.addHandler(logging.NullHandler())\n"
    assert [line for line, _ in _findings(_package(tmp_path, codecs))] == [10]


def test_a_warning_in_a_function_called_at_import_is_flagged_without_a_fix(tmp_path):
    codecs = ("logger = logging.getLogger(__name__)\n\n\ndef _probe():\n    try:\n        import turbojpeg\n"
              f"    except ImportError:\n        {WARNING}\n\n\n_probe()\n")
    root = _package(tmp_path, codecs)
    path = root / "photokit/codecs.py"
    [finding] = [d for d in mpcheck.check_source(path.read_text(), str(path)) if d.code == "MP601"]
    assert finding.line == 12 and "in `_probe()` called at import" in finding.message
    assert not finding.fixable


SILENT = {
    # The handler and level checks.
    "a NullHandler on the logger": _probe("logger.addHandler(logging.NullHandler())"),
    "a NullHandler on the package's logger": _probe('logging.getLogger("photokit").addHandler(logging.NullHandler())'),
    "a NullHandler on the root logger": _probe("logging.getLogger().addHandler(logging.NullHandler())"),
    "basicConfig to a file": _probe('logging.basicConfig(filename="photokit.log")'),
    "dictConfig": _probe("import logging.config\nlogging.config.dictConfig(CONFIG)"),
    "setLevel(ERROR)": _probe("logger.setLevel(logging.ERROR)"),
    "setLevel(ERROR) on the package's logger": _probe('logging.getLogger("photokit").setLevel(logging.ERROR)'),
    "a level not known": _probe("logger.setLevel(LEVEL)"),
    "logging.disable()": _probe("logging.disable()"),
    "logging.disable(WARNING)": _probe("logging.disable(logging.WARNING)"),
    "logging.lastResort = None": _probe("logging.lastResort = None"),
    "info(), below lastResort's level": _probe(call='logger.info("no JPEG decoder")'),
    "log(logging.INFO, ...)": _probe(call='logger.log(logging.INFO, "no JPEG decoder")'),
    "a handler added by a function called before": (
        "def _quiet():\n    logging.getLogger('photokit').addHandler(logging.NullHandler())\n\n\n_quiet()\n"
        + _probe()),
    "a handler added under a condition before": _probe("if not logger.handlers:\n    logger.addHandler(logging.NullHandler())"),
    # Loggers whose handlers are not known.
    "another library's logger": _probe(logger='logging.getLogger("turbojpeg")'),
    "a name computed at run time": _probe(logger='logging.getLogger(__name__.replace("codecs", "io"))'),
    "a logger from another module": "from .log import logger\n" + _probe().split("\n", 1)[1],
    "a logging.Logger made directly": _probe(logger='logging.Logger("photokit.codecs")'),
    # Not repeated output.
    "followed by raise": _probe(call=WARNING + "\n    raise"),
    "under the main-process test": _probe(
        call="if multiprocessing.current_process().name == 'MainProcess':\n        " + WARNING).replace(
        "logger =", "import multiprocessing\nlogger =", 1),
}


@pytest.mark.parametrize("codecs", SILENT.values(), ids=SILENT.keys())
def test_a_warning_that_no_longer_reaches_lastresort_is_not_flagged(tmp_path, codecs):
    assert _findings(_package(tmp_path, codecs)) == []


@pytest.mark.parametrize("init_setup", [
    "logging.getLogger(__name__).addHandler(logging.NullHandler())",  # the logging HOWTO's advice
    "logging.getLogger(__name__).setLevel(logging.ERROR)",
    "from . import log_setup  # configures the package's logger",
])
def test_configuration_made_before_the_submodule_is_imported_keeps_it_silent(tmp_path, init_setup):
    root = _package(tmp_path, _probe(), init_setup)
    (root / "photokit/log_setup.py").write_text(
        "import logging\n\nlogging.getLogger('photokit').addHandler(logging.NullHandler())\n")
    assert _findings(root) == []


def test_a_module_around_that_configures_only_its_own_logger_keeps_it_flagged(tmp_path):
    # AutoGPTQ's shape: modeling/_base.py gives its own logger a console handler at import;
    # nn_modules/qlinear/qlinear_cuda.py warns "CUDA extension not installed." on another.
    root = _package(tmp_path, _probe(), "from . import log_setup")
    (root / "photokit/log_setup.py").write_text(
        "import logging\n\nlogger = logging.getLogger(__name__)\nlogger.addHandler(logging.StreamHandler())\n"
        "logger.setLevel(logging.INFO)\nlogging.getLogger('photokit.codecs.jpeg').addHandler(logging.NullHandler())\n")
    assert [line for line, _ in _findings(root)] == [10]


def test_the_warning_in_init_gets_the_fix(tmp_path):
    root = _package(tmp_path, "")
    init = root / "photokit/__init__.py"
    init.write_text(init.read_text() + "\nlogger = logging.getLogger(__name__)\n" + _probe().split("\n", 2)[2])
    [finding] = [d for d in mpcheck.check_source(init.read_text(), str(init)) if d.code == "MP601"]
    assert finding.fixable and "package `photokit` is imported with no handler" in finding.message


def test_the_fix_gives_the_fixture_after(tmp_path):
    fixed = tmp_path / "fixed"
    shutil.copytree(FIXTURE / "before", fixed)
    result = CliRunner().invoke(main, ["fix", "--no-cache", str(fixed)])
    assert result.exit_code == 0, result.output
    for path in (FIXTURE / "after").rglob("*.py"):
        assert (fixed / path.relative_to(FIXTURE / "after")).read_text() == path.read_text(), path
    assert CliRunner().invoke(main, ["check", "--no-cache", str(fixed)]).exit_code == 0


@pytest.mark.oracle
@pytest.mark.parametrize("version", sorted(interpreters()))
def test_the_fix_writes_the_warning_once_under_every_start_method(version):
    """The start-method oracle on a package that logs a warning at import with no handler
    (app.py configures logging only under its main guard): the warning appears once under
    fork and more often under spawn, forkserver and with no fork at all; after/ (what
    `mpcheck fix` makes of it) writes it once under each, with the same stdout."""
    python = interpreters()[version]
    if python is None:
        pytest.skip(f"CPython {version} is not installed here")
    line = "photokit._speedups is not built: using the pure-Python resize\n"
    before, after = Program(FIXTURE / "before", ("app.py",)), Program(FIXTURE / "after", ("app.py",))
    reference = run_program(before, "fork", python)
    assert reference.returncode == 0 and reference.stderr.count(line) == 1, reference.describe()
    for method in (*START_METHODS, SIMULATED_WINDOWS):
        original = run_program(before, method, python)
        assert original.returncode == 0 and original.stdout == reference.stdout, original.describe()
        assert original.stderr.count(line) == 1 if method == "fork" else original.stderr.count(line) > 1
        fixed = run_program(after, method, python)
        assert fixed.returncode == 0 and fixed.stdout == reference.stdout, fixed.describe()
        assert fixed.stderr.count(line) == 1, fixed.describe()


def test_a_cached_result_is_checked_again_when_a_module_imported_around_it_configures_logging(tmp_path):
    """The answer depends on the text of modules the file itself does not import: the
    package's `__init__.py` and what that imports. Editing one of those must not leave the
    result cache's old answer in place."""
    root = _package(tmp_path, _probe(), "from . import log_setup")
    setup = root / "photokit/log_setup.py"
    setup.write_text('"""Logging for photokit\'s command line tools."""\n\nimport logging\n')
    runner = CliRunner()
    codecs = str(root / "photokit/codecs.py")
    first = runner.invoke(main, ["check", "--select", "MP601", codecs])
    assert first.exit_code == 1 and "logging.lastResort" in first.output, first.output
    setup.write_text(setup.read_text() + "\nlogging.getLogger('photokit').addHandler(logging.NullHandler())\n")
    again = runner.invoke(main, ["check", "--select", "MP601", codecs])
    assert again.exit_code == 0, again.output
