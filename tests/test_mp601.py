"""MP601 (output at package import): the fix's main-process test under every start method,
including the forkserver of Python 3.14, and the import graph the rule follows (Freemocap's
shape: a logging set-up function of another module called from `__init__.py`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import mpcheck

from .oracle import Program, interpreters, run_program

ROOT = Path(__file__).resolve().parent.parent
FIXED = ROOT / "fixtures" / "mp601" / "package_banner" / "after"
PRELOAD = ROOT / "tests" / "data" / "forkserver_preloads_main.py"
GUARD_PART = '    and not getattr(multiprocessing.current_process(), "_inheriting", False)\n'


def _copy(tmp_path: Path, name: str, drop_inheriting: bool = False) -> Program:
    tree = tmp_path / name
    shutil.copytree(FIXED, tree)
    shutil.copy(PRELOAD, tree / PRELOAD.name)
    if drop_inheriting:
        init = tree / "photokit" / "__init__.py"
        text = init.read_text()
        assert GUARD_PART in text
        init.write_text(text.replace(GUARD_PART, ""))
    return Program(tree, (PRELOAD.name, "app.py"))


@pytest.mark.oracle
@pytest.mark.parametrize("version", sorted(interpreters()))
def test_main_process_test_holds_when_the_forkserver_imports_the_main_module(version, tmp_path):
    python = interpreters()[version]
    if python is None:
        pytest.skip(f"CPython {version} is not installed here")
    reference = run_program(Program(FIXED, ("app.py",)), "fork", python)
    assert reference.returncode == 0 and reference.stdout.startswith("photokit 1.2\n"), reference.describe()
    fixed = run_program(_copy(tmp_path, "fixed"), "forkserver", python)
    assert fixed.returncode == 0 and fixed.stdout == reference.stdout, fixed.describe()
    # Without the `_inheriting` half, the forkserver process prints the banner once more.
    name_only = run_program(_copy(tmp_path, "name-only", drop_inheriting=True), "forkserver", python)
    assert name_only.returncode == 0 and name_only.stdout.count("photokit 1.2\n") == 2, name_only.describe()


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mocap'\n")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _calls(monkeypatch, owner: type, name: str, noted) -> list:
    """What `noted(self, *arguments)` gives for each call of the method `owner.name` from now
    on, in a list that grows as they are made."""
    calls = []
    method = getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda self, *arguments: calls.append(noted(self, *arguments))
                        or method(self, *arguments))
    return calls


def _mp601(root: Path, name: str) -> list[tuple[int, str]]:
    path = root / name
    return [(d.line, d.message) for d in mpcheck.check_source(path.read_text(), str(path)) if d.code == "MP601"]


FREEMOCAP = {
    "mocap/__init__.py": (
        '"""Top-level package."""\n\n__version__ = "1.0"\n\n'
        "from mocap.system.logs import configure_logging\n\n"
        "configure_logging()\n"
        "import logging\n\n"
        "logger = logging.getLogger(__name__)\n"
        'logger.info(f"Initializing mocap package, version: {__version__}")\n'
    ),
    "mocap/system/__init__.py": "",
    "mocap/system/logs.py": (
        "import logging\nimport sys\n\n\n"
        "def handlers():\n    console = logging.StreamHandler(sys.stdout)\n    return [console]\n\n\n"
        "def configure_logging():\n"
        '    print(f"Setting up logging {__file__}")\n'
        "    if len(logging.getLogger().handlers) == 0:\n"
        "        for handler in handlers():\n            logging.getLogger('').handlers.append(handler)\n"
        "        logging.root.setLevel(logging.DEBUG)\n"
        "    else:\n"
        "        logging.getLogger(__name__).info('Logging already configured')\n"
    ),
    "mocap/core.py": "print('core loaded')\n\n\ndef track(video):\n    print('tracking', video)\n",
    "mocap/gui.py": "def main():\n    from mocap import core\n    print('gui')\n",
    "mocap/plugins.py": "print('plugins loaded')  # nothing imports it at import time\n",
    "run.py": "import mocap\n\nprint('starting')\n",
}


def test_freemocap_shape(tmp_path):
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from . import core\n"
    root = _project(tmp_path, files)
    [(line, message)] = _mp601(root, "mocap/__init__.py")
    assert line == 11 and "`logger.info()`" in message
    # The print in the set-up function, which __init__.py calls at import; not the `else:`
    # branch's log call, which never runs when the handler was just installed.
    [(line, message)] = _mp601(root, "mocap/system/logs.py")
    assert line == 11 and "in `configure_logging()` called at import" in message
    [(line, message)] = _mp601(root, "mocap/core.py")
    assert line == 1 and "its `__init__.py` imports this module" in message
    assert _mp601(root, "mocap/gui.py") == []  # imported only inside a function
    assert _mp601(root, "mocap/plugins.py") == []
    assert _mp601(root, "run.py") == []  # a script


def test_importers_that_use_no_function_that_prints_are_not_parsed(tmp_path, monkeypatch):
    # The stdlib's logging is imported at import time by dozens of modules of packages that
    # never call what prints in it: only the importer that calls configure_logging() is
    # parsed to follow its import-time calls.
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from mocap.system import " + ", ".join(f"user_{n}" for n in range(5)) + "\n"
    for n in range(5):
        files[f"mocap/system/user_{n}.py"] = "from mocap.system.logs import handlers\n\nCONSOLE = handlers()\n"
    root = _project(tmp_path, files)
    import mpcheck.project

    modeled = []
    model_of = mpcheck.project.ProjectIndex.model_of
    monkeypatch.setattr(mpcheck.project.ProjectIndex, "model_of",
                        lambda self, module: modeled.append(module.name) or model_of(self, module))
    [(line, message)] = _mp601(root, "mocap/system/logs.py")
    assert line == 11 and "in `configure_logging()` called at import" in message
    assert not any(name.startswith("mocap.system.user_") for name in modeled), modeled


def test_a_module_imported_lazily_is_not_flagged(tmp_path):
    root = _project(tmp_path, FREEMOCAP)
    assert _mp601(root, "mocap/core.py") == []


@pytest.mark.parametrize(("statement", "fixable"), [
    ("print('photokit ready')", True),
    ("sys.stderr.write('photokit ready\\n')", True),
    ("print('a'); VERSION = 1", False),
    ("logging.warning('photokit ready')", False),  # it also installs the stderr handler
])
def test_which_statements_get_the_fix(statement, fixable):
    source = f"import logging\nimport sys\n\n{statement}\n"
    [finding] = [d for d in mpcheck.check_source(source, "photokit/__init__.py") if d.code == "MP601"]
    assert finding.fixable == fixable


def test_a_directory_without_init_is_followed(tmp_path):
    # freemocap v1.0.20 keeps its logging set-up in freemocap/system/logging/, which has no
    # __init__.py (an implicit namespace package): its modules are still found by their path.
    files = {name: text for name, text in FREEMOCAP.items() if name != "mocap/system/__init__.py"}
    root = _project(tmp_path, files)
    assert [line for line, _ in _mp601(root, "mocap/__init__.py")] == [11]
    assert [line for line, _ in _mp601(root, "mocap/system/logs.py")] == [11]


def test_an_importer_that_calls_a_function_which_calls_the_one_that_prints_is_followed(tmp_path):
    # Only importers that name a function of the module that can print are parsed; the
    # importer names `show`, not the helper that writes: `show` counts because it calls it.
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from mocap import banner\n\nbanner.show()\n"
    files["mocap/banner.py"] = ("import sys\n\n\ndef show():\n    _say('mocap')\n\n\n"
                                "def _say(word):\n    sys.stdout.write(word + '\\n')\n")
    root = _project(tmp_path, files)
    [(line, message)] = _mp601(root, "mocap/banner.py")
    assert line == 9 and "`sys.stdout.write()`" in message, message
    assert "in `_say()` called at import (through `show()`)" in message, message


def test_output_two_modules_away_from_the_package_is_found(tmp_path):
    # __init__.py calls banner.show(), which calls text.say(), which prints: the print is in
    # text.py, whose importer (banner.py) calls nothing at import; __init__.py does.
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from mocap import banner\n\nbanner.show()\n"
    files["mocap/banner.py"] = "from mocap import text\n\n\ndef show():\n    text.say('mocap')\n"
    files["mocap/text.py"] = "def say(word):\n    print(word)\n\n\ndef quiet(word):\n    return word\n"
    files["mocap/unused.py"] = "from mocap.banner import show\n\n\ndef later():\n    show()\n"
    root = _project(tmp_path, files)
    [(line, message)] = _mp601(root, "mocap/text.py")
    assert line == 2 and "`print()`" in message, message
    assert "in `say()` called at import (through `show()`)" in message, message
    assert _mp601(root, "mocap/banner.py") == []


def test_an_importer_above_that_names_nothing_leading_to_the_output_is_not_parsed(tmp_path, monkeypatch):
    # other.py imports banner.py at import time and calls it, but names neither `show` nor
    # `text`, the names of banner.py that lead to text.say(): it is not parsed.
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from mocap import banner, other\n"
    files["mocap/banner.py"] = ("from mocap import text\n\n\ndef show():\n    text.say('mocap')\n\n\n"
                                "def quiet_too():\n    return 1\n")
    files["mocap/other.py"] = "from mocap import banner\n\nbanner.quiet_too()\n"
    files["mocap/text.py"] = "def say(word):\n    print(word)\n"
    root = _project(tmp_path, files)
    import mpcheck.project

    modeled = _calls(monkeypatch, mpcheck.project.ProjectIndex, "model_of", lambda self, module: module.name)
    assert _mp601(root, "mocap/text.py") == []
    assert "mocap.banner" in modeled and "mocap.other" not in modeled, modeled


def test_what_an_importer_writes_is_not_asked_when_every_module_above_it_was_walked(tmp_path, monkeypatch):
    # __init__.py imports text.py itself, and banner.py, whose show() calls text.say(): its
    # walk (the first importer of text.py) finds the print. banner.py's only importer is that
    # __init__.py, already walked: what banner's functions write in text.py is not worked
    # out (a walk through the project, for a module above that could call them).
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from mocap import banner, text\n\nbanner.show()\n"
    files["mocap/banner.py"] = "from mocap import text\n\n\ndef show():\n    text.say('mocap')\n"
    files["mocap/text.py"] = "def say(word):\n    print(word)\n"
    root = _project(tmp_path, files)
    import mpcheck.model.output

    asked = _calls(monkeypatch, mpcheck.model.output.OutputFacts, "functions_writing_in",
                   lambda self, names, path: self.model.path)
    [(line, message)] = _mp601(root, "mocap/text.py")
    assert line == 2 and "in `say()` called at import (through `show()`)" in message, message
    assert not [path for path in asked if path.endswith("banner.py")], asked


def test_the_texts_of_the_importers_are_read_once_for_the_same_names(tmp_path, monkeypatch):
    # MP601 asks which importers of a module may call its functions, then which names of each
    # importer lead there (ProjectIndex._naming): the second question reads no text again.
    files = dict(FREEMOCAP)
    files["mocap/__init__.py"] += "from mocap import core, helpers\n"
    files["mocap/helpers.py"] = "from mocap import util\n\n\ndef setup():\n    util.go()\n"
    files["mocap/util.py"] = "import mocap\n\n\ndef go():\n    mocap.core.track('x')\n"
    root = _project(tmp_path, files)
    import mpcheck.project

    index = mpcheck.project.Projects().for_path(str(root / "mocap/core.py"))
    core = str(root / "mocap/core.py")
    assert [module.name for module in index.import_time_importers(core, {"track"})] == ["mocap"]
    read = []
    text_of = mpcheck.project.ProjectIndex.text_of
    monkeypatch.setattr(mpcheck.project.ProjectIndex, "text_of",
                        lambda self, module: read.append(module.name) or text_of(self, module))
    assert [module.name for module in index.import_time_importers(core, {"track"})] == ["mocap"]
    assert read == []


def test_an_importer_names_a_function_only_with_the_whole_identifier(tmp_path):
    # `__main__` holds `main` but names no function `main`: neither module can call core.main().
    import mpcheck.project

    root = _project(tmp_path, {
        "pkg/__init__.py": "from . import core, helper\n",
        "pkg/core.py": "def main():\n    print('hi')\n",
        "pkg/helper.py": "from . import core\n\nif __name__ == '__main__':\n    core.run()\n",
    })
    core = str(root / "pkg/core.py")
    index = mpcheck.project.Projects().for_path(core)
    assert index.import_time_importers(core, {"main"}) == []
    assert [module.name for module in index.import_time_importers(core, {"run"})] == ["pkg", "pkg.helper"]


def test_a_module_hidden_by_a_package_of_the_same_name_is_not_flagged(tmp_path):
    # shop/tools.py prints, but `from . import tools` imports the package shop/tools/, which
    # CPython's FileFinder takes before a module of the same name: the print never runs.
    root = _project(tmp_path, {
        "shop/__init__.py": "from . import tools\n",
        "shop/tools.py": "print('never printed')\n",
        "shop/tools/__init__.py": "X = 1\n",
    })
    assert _mp601(root, "shop/tools.py") == []


# Versioneer's `_version.py`, as thousands of packages vendor it (trimmed): `get_versions()`
# runs at import, and every print is under `if verbose:`, with `verbose` taken from the
# config object `get_config()` makes and sets to False.
VERSIONEER = '''\
class VersioneerConfig:
    """Container for Versioneer configuration parameters."""


def get_config():
    cfg = VersioneerConfig()
    cfg.tag_prefix = ""
    cfg.verbose = {verbose}
    return cfg


def git_versions_from_keywords(keywords, tag_prefix, verbose):
    if not keywords:
        raise ValueError("no keywords at all, weird")
    if verbose:
        print("keywords are unexpanded, not using")
    return {{"version": keywords}}


def versions_from_parentdir(parentdir_prefix, root, verbose):
    if verbose:
        print("Tried directories %s but none started with prefix %s" % (root, parentdir_prefix))
    return {{"version": "0+unknown"}}


def get_versions():
    cfg = get_config()
    verbose = cfg.verbose
    try:
        return git_versions_from_keywords({{}}, cfg.tag_prefix, verbose)
    except ValueError:
        pass
    return versions_from_parentdir("mocap-", ".", verbose)
'''


@pytest.mark.parametrize(("verbose", "later", "lines"), [
    ("False", "", []),
    ("True", "", [16, 22]),
    ("False", "\n\ndef debug(cfg):\n    cfg.verbose = True\n", [16, 22]),  # set to another value elsewhere
    ("bool(0)", "", [16, 22]),  # no constant
], ids=["versioneer", "verbose", "set-again", "not-a-constant"])
def test_output_under_a_verbose_flag_the_config_turns_off_is_not_made(tmp_path, verbose, later, lines):
    """The walk of what importing the package runs reads the arguments of each call: a
    print under `if verbose:` does not run where every call leaves `verbose` false, also
    when that comes from an attribute every assignment sets to False."""
    root = _project(tmp_path, {"mocap/__init__.py": "from . import _version\n\n"
                                                    "__version__ = _version.get_versions()['version']\n",
                               "mocap/_version.py": VERSIONEER.format(verbose=verbose) + later})
    assert [line for line, _ in _mp601(root, "mocap/_version.py")] == lines


@pytest.mark.parametrize(("call", "lines"), [
    ("load('shop.toml')", []),
    ("load('shop.toml', verbose=False)", []),
    ("load('shop.toml', verbose=True)", [3, 9]),
    ("load('shop.toml', True)", [3, 9]),
    ("load('shop.toml', verbose=VERBOSE)", [3, 9]),  # unknown where it stands
    ("load('shop.toml')\nEXTRA = load('extra.toml', verbose=True)", [3, 9]),  # walked again with other values
], ids=["default", "false", "true", "true-by-position", "unknown", "twice"])
def test_output_a_call_s_arguments_rule_out_is_not_made(tmp_path, call, lines):
    root = _project(tmp_path, {
        "mocap/__init__.py": f"import os\n\nfrom .config import load\n\nVERBOSE = os.environ.get('V')\n"
                             f"SETTINGS = {call}\n",
        "mocap/config.py": "def _read(path, verbose):\n    if verbose:\n        print('reading', path)\n    return {}\n\n\n"
                           "def load(path, verbose=False):\n    if verbose:\n        print('loading', path)\n"
                           "    return _read(path, verbose)\n"})
    assert sorted(line for line, _ in _mp601(root, "mocap/config.py")) == lines


def test_a_class_default_of_another_value_keeps_the_output(tmp_path):
    text = VERSIONEER.format(verbose="False").replace('    """Container for Versioneer configuration parameters."""',
                                                       "    verbose = True")
    root = _project(tmp_path, {"mocap/__init__.py": "from . import _version\n\n"
                                                    "__version__ = _version.get_versions()['version']\n",
                               "mocap/_version.py": text})
    assert [line for line, _ in _mp601(root, "mocap/_version.py")] == [16, 22]
