"""MP202 knows a frozen app from its project: dependency files that name a freezer, a
PyInstaller spec, a build script that imports a freezer, Nuitka's build options, or the
script's own `sys.frozen`; and it is not fooled by names, comments and prose that only look
like one. Each case is a small project tree as such projects lay it out."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mpcheck
from mpcheck.frozen import FrozenEvidence, frozen_evidence, project_root

# The desktop app's entry point: it starts a pool under its guard, without freeze_support().
ENTRY = '''\
"""Batch audio converter: the desktop app's entry point."""
import multiprocessing
from pathlib import Path


def convert(path):
    return path.with_suffix(".ogg")


def main():
    files = sorted(Path("inbox").glob("*.wav"))
    with multiprocessing.Pool() as pool:
        for converted in pool.imap(convert, files):
            print("converted", converted)


if __name__ == "__main__":
    main()
'''
PYPROJECT = '''\
[project]
name = "wavconv"
version = "1.4.0"
requires-python = ">=3.10"
dependencies = ["numpy>=1.26", "soundfile"]
'''
SPEC = '''\
# -*- mode: python ; coding: utf-8 -*-
a = Analysis(
    ['wavconv/app.py'],
    pathex=[],
    datas=[('assets', 'assets')],
    hiddenimports=[],
)
pyz = PYZ(a.pure)
exe = EXE(pyz, a.scripts, a.binaries, a.datas, name='wavconv', console=False)
'''
RPM_SPEC = '''\
Name:           python-wavconv
Version:        1.4.0
Release:        1%{?dist}
Summary:        Batch audio converter
BuildRequires:  python3-devel pyinstaller

%description
Converts audio files. Not an Analysis( of anything.

%build
%py3_build
'''

# name -> (files besides wavconv/app.py, expected evidence)
EVIDENCE = {
    "requirements-dir-with-hashes": (
        {"pyproject.toml": PYPROJECT, "requirements/base.txt": "numpy==1.26.4\nsoundfile==0.12.1\n",
         "requirements/build.txt": "-r base.txt\n# the Windows installer\npyinstaller==6.6.0 \\\n"
                                   "    --hash=sha256:0f3b7ca0a1bd1bce2e6ac4d5e8d6e3a2\n"},
        "frozen with PyInstaller: requirements/build.txt:3"),
    "requirements-with-marker": (
        {".git/HEAD": "ref: refs/heads/main\n",
         "requirements-build.txt": "wheel\nPyInstaller>=6.0 ; sys_platform == 'win32'  # installer\n"},
        "frozen with PyInstaller: requirements-build.txt:2"),
    "pip-tools-input": (
        {"pyproject.toml": PYPROJECT, "requirements/freeze.in": "-c constraints.txt\ncx_Freeze~=7.2\n"},
        "frozen with cx_Freeze: requirements/freeze.in:2"),
    "hooks-contrib": (
        {"setup.cfg": "[metadata]\nname = wavconv\n", "dev-requirements.txt": "pytest\npyinstaller-hooks-contrib>=2024.1\n"},
        "frozen with PyInstaller: dev-requirements.txt:2"),
    "pyproject-dependencies": (
        {"pyproject.toml": PYPROJECT.replace('"soundfile"]', '"soundfile", "Nuitka>=2.0"]')},
        "frozen with Nuitka: pyproject.toml [project] dependencies"),
    "pyproject-optional-dependencies": (
        {"pyproject.toml": PYPROJECT + '\n[project.optional-dependencies]\ntest = ["pytest"]\nbuild = ["pyinstaller>=6"]\n'},
        "frozen with PyInstaller: pyproject.toml [project.optional-dependencies] build"),
    "pep735-dependency-groups": (
        {"pyproject.toml": PYPROJECT + '\n[dependency-groups]\ntest = ["pytest"]\n'
                                       'dist = [{include-group = "test"}, "py2exe>=0.13"]\n'},
        "frozen with py2exe: pyproject.toml [dependency-groups] dist"),
    "poetry-group": (
        {"pyproject.toml": '[tool.poetry]\nname = "wavconv"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n'
                           'numpy = "^1.26"\n\n[tool.poetry.group.dist.dependencies]\nPyInstaller = "^6.3"\n'},
        "frozen with PyInstaller: pyproject.toml [tool.poetry.group.dist.dependencies]"),
    "poetry-dev-dependencies": (
        {"pyproject.toml": '[tool.poetry]\nname = "wavconv"\n\n[tool.poetry.dev-dependencies]\ncx-freeze = "*"\n'},
        "frozen with cx_Freeze: pyproject.toml [tool.poetry.dev-dependencies]"),
    "hatch-environment": (
        {"pyproject.toml": PYPROJECT + '\n[tool.hatch.envs.build]\ndependencies = ["pyinstaller"]\n'},
        "frozen with PyInstaller: pyproject.toml [tool.hatch.envs.build] dependencies"),
    "setup-cfg-extras": (
        {"setup.cfg": "[metadata]\nname = wavconv\n\n[options]\ninstall_requires =\n    numpy\n\n"
                      "[options.extras_require]\nfreeze =\n    cx-Freeze>=6.15\n"},
        "frozen with cx_Freeze: setup.cfg [options.extras_require] freeze"),
    "setup-cfg-install-requires": (
        {"setup.cfg": "[metadata]\nname = wavconv\n\n[options]\ninstall_requires =\n    numpy\n    nuitka\n"},
        "frozen with Nuitka: setup.cfg [options] install_requires"),
    "cx-freeze-setup-py": (
        {"setup.py": 'import sys\n\nfrom cx_Freeze import Executable, setup\n\n'
                     'setup(name="wavconv", executables=[Executable("wavconv/app.py")])\n'},
        "frozen with cx_Freeze: setup.py:3"),
    "setup-py-install-requires": (
        {"setup.py": 'from setuptools import setup\n\nsetup(\n    name="wavconv",\n'
                     '    extras_require={"win": ["pywin32"], "freeze": ["PyInstaller>=6"]},\n)\n'},
        "frozen with PyInstaller: setup.py:5"),
    "build-script": (
        {"pyproject.toml": PYPROJECT,
         "build.py": '"""Build the Windows executable."""\n\n\ndef build():\n    import PyInstaller.__main__\n\n'
                     '    PyInstaller.__main__.run(["wavconv.spec", "--noconfirm"])\n'},
        "frozen with PyInstaller: build.py:5"),
    "spec-file": ({"pyproject.toml": PYPROJECT, "wavconv.spec": SPEC}, "frozen with PyInstaller: wavconv.spec"),
    "pipfile": (
        {".git/HEAD": "", "Pipfile": '[packages]\nnumpy = "*"\n\n[dev-packages]\npyinstaller = "==6.6"\n'},
        "frozen with PyInstaller: Pipfile [dev-packages]"),
    "conda-environment": (
        {".git/HEAD": "", "environment.yml": "name: wavconv\nchannels:\n  - conda-forge\ndependencies:\n"
                                             "  - python=3.11\n  - numpy\n  - pip\n  - pip:\n      - pyinstaller==6.6\n"},
        "frozen with PyInstaller: environment.yml:9"),
}

LOOK_ALIKES = {
    "names-that-only-start-like-a-freezer": {
        "pyproject.toml": PYPROJECT,
        "requirements.txt": "# pyinstaller is installed by the release job\npyinstaller-extractor\nnuitka-setuptools\n"
                            "pyinstallerex-docs; python_version > '3'\n",
    },
    "prose-and-metadata": {
        "pyproject.toml": PYPROJECT.replace('requires-python', 'description = "Frozen with PyInstaller"\n'
                                            'keywords = ["pyinstaller", "nuitka"]\nrequires-python'),
        "README.md": "Build the installer with `pip install pyinstaller && pyinstaller wavconv.spec`.\n",
        "MANIFEST.in": "include README.md\nrecursive-include pyinstaller *\n",
    },
    "rpm-spec": {"pyproject.toml": PYPROJECT, "python-wavconv.spec": RPM_SPEC},
    "setup-cfg-prose-and-extra-names": {
        "setup.cfg": "[metadata]\nname = wavconv\ndescription = packaged with pyinstaller\n\n"
                     "[options.extras_require]\npyinstaller = requests\n",
    },
    "build-script-that-only-mentions-it": {
        "pyproject.toml": PYPROJECT,
        "build.py": '# import PyInstaller.__main__  (we moved to the release job)\nprint("run pyinstaller by hand")\n',
    },
    "evidence-above-the-project-root": {
        "../requirements.txt": "pyinstaller\n", "pyproject.toml": PYPROJECT,
    },
    "broken-files": {
        "pyproject.toml": "[project\nname = 'wavconv'\n", "setup.cfg": "not an ini [file\n",
        "setup.py": "from setuptools import setup\nsetup(install_requires=['pyinstaller'\n",
    },
}


def _tree(base: Path, files: dict[str, str]) -> Path:
    project = base / "wavconv-project"
    for relative, text in {**files, "wavconv/__init__.py": "", "wavconv/app.py": ENTRY}.items():
        path = (project / relative).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return project


def _mp202(project: Path) -> list[mpcheck.Diagnostic]:
    entry = project / "wavconv" / "app.py"
    return [d for d in mpcheck.check_source(entry.read_text(), str(entry)) if d.code == "MP202"]


@pytest.mark.parametrize("case", EVIDENCE, ids=str)
def test_evidence_is_recognised_and_named(tmp_path, case):
    files, described = EVIDENCE[case]
    project = _tree(tmp_path, files)
    evidence = frozen_evidence(project / "wavconv" / "app.py")
    assert evidence is not None and evidence.describe() == described
    (finding,) = _mp202(project)
    assert f"in the entry script of a frozen application ({described}) without" in finding.message
    assert finding.line == 17 and finding.fix is not None


@pytest.mark.parametrize("case", LOOK_ALIKES, ids=str)
def test_look_alikes_do_not_count(tmp_path, case):
    project = _tree(tmp_path, LOOK_ALIKES[case])
    assert frozen_evidence(project / "wavconv" / "app.py") is None
    assert _mp202(project) == []


def test_the_script_reading_sys_frozen_is_evidence_of_its_own(tmp_path):
    project = _tree(tmp_path, {"pyproject.toml": PYPROJECT})
    entry = project / "wavconv" / "app.py"
    entry.write_text(ENTRY.replace("import multiprocessing\n", "import multiprocessing\nimport sys\n\n"
                                   'BASE = Path(getattr(sys, "_MEIPASS", "."))\n'))
    (finding,) = _mp202(project)
    assert "(the script reads `sys._MEIPASS`)" in finding.message


def test_nuitka_project_options_in_the_script_itself(tmp_path):
    project = _tree(tmp_path, {"pyproject.toml": PYPROJECT})
    entry = project / "wavconv" / "app.py"
    entry.write_text("# nuitka-project: --mode=onefile\n# nuitka-project: --enable-plugin=multiprocessing\n" + ENTRY)
    assert frozen_evidence(entry) == FrozenEvidence("Nuitka", entry, ":1", project)
    assert "(frozen with Nuitka: wavconv/app.py:1)" in _mp202(project)[0].message


def test_evidence_nearest_the_script_wins_and_stops_at_the_root(tmp_path):
    project = _tree(tmp_path, {"pyproject.toml": PYPROJECT, "requirements.txt": "nuitka\n",
                               "wavconv/windows.spec": SPEC})
    assert frozen_evidence(project / "wavconv" / "app.py").describe() == "frozen with PyInstaller: wavconv/windows.spec"
    assert project_root(project / "wavconv") == project


def test_a_script_outside_any_project_only_looks_in_its_own_directory(tmp_path):
    # No .git, pyproject.toml, setup.py or setup.cfg anywhere up from tmp_path.
    (tmp_path / "requirements.txt").write_text("pyinstaller\n")
    for directory in ("tools", "installer"):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "convert.py").write_text(ENTRY)
    (tmp_path / "installer" / "requirements.txt").write_text("pyinstaller\n")
    assert project_root(tmp_path / "tools") is None
    assert frozen_evidence(tmp_path / "tools" / "convert.py") is None
    assert frozen_evidence(tmp_path / "installer" / "convert.py").describe() == "frozen with PyInstaller: requirements.txt:1"


def test_the_command_and_flake8_name_the_same_evidence(tmp_path):
    project = _tree(tmp_path, EVIDENCE["requirements-dir-with-hashes"][0])
    bin_directory = Path(sys.executable).parent
    runs = [
        subprocess.run([str(bin_directory / tool), *args, "wavconv"], cwd=project, capture_output=True, text=True, timeout=120)
        for tool, args in (("mpcheck", ["check", "--quiet", "--select", "MP202"]), ("flake8", ["--select", "MP202"]))
    ]
    expected = ("wavconv/app.py:17:4: MP202 Pool() (through main()) in the entry script of a frozen application "
                "(frozen with PyInstaller: requirements/build.txt:3) without `multiprocessing.freeze_support()`")
    for run in runs:
        assert run.stdout.startswith(expected), (run.stdout, run.stderr)
    assert runs[0].stdout == runs[1].stdout


ENTRY_SPEC = '''\
a = Analysis(["{script}"], pathex=[])
pyz = PYZ(a.pure)
exe = EXE(pyz, a.scripts, name="wavconv")
'''


@pytest.mark.parametrize(("frozen_script", "reported"), [("wavconv/app.py", True), ("tools/other.py", False)])
def test_a_spec_names_the_scripts_it_freezes(tmp_path, frozen_script, reported):
    # A helper script next to a frozen app is not frozen itself (Buzz's scripts/download-models.py).
    project = _tree(tmp_path, {"wavconv.spec": ENTRY_SPEC.format(script=frozen_script), "pyproject.toml": "[project]\nname='w'\n"})
    assert bool(_mp202(project)) is reported


@pytest.mark.parametrize(("frozen_script", "reported"), [("wavconv/app.py", True), ("tools/bench.py", False)])
def test_a_spec_kept_elsewhere_names_the_scripts_a_dependency_says_are_frozen(tmp_path, frozen_script, reported):
    # natcap/invest: PyInstaller in requirements-dev.txt, exe/invest.spec freezing the CLI; a
    # developer script that starts a pool was reported as a frozen entry script.
    project = _tree(tmp_path, {"requirements-dev.txt": "pytest\npyinstaller>=6\n",
                               "exe/wavconv.spec": ENTRY_SPEC.format(script=f"../{frozen_script}"),
                               "pyproject.toml": "[project]\nname='w'\n"})
    assert bool(_mp202(project)) is reported
    # Without a spec the dependency alone says the app is frozen, whatever its entry script.
    project = _tree(tmp_path / "no-spec", {"requirements-dev.txt": "pyinstaller>=6\n",
                                           "pyproject.toml": "[project]\nname='w'\n"})
    assert _mp202(project)


NAMED_SPEC = '''\
import os
current_dir = os.getcwd()  # assume we're building from the project root
exename = "wavconv"
cli_file = os.path.join(current_dir, {parts})
a = Analysis([cli_file], pathex=[])
pyz = PYZ(a.pure)
exe = EXE(pyz, a.scripts, name=exename)
'''


@pytest.mark.parametrize(("spec", "reported"), [
    # natcap/invest's exe/invest.spec: the script joined to the directory PyInstaller runs in.
    (NAMED_SPEC.format(parts='"wavconv", "app.py"'), True),
    (NAMED_SPEC.format(parts='"tools", "bench.py"'), False),
    (NAMED_SPEC.replace("os.getcwd()", '".."').format(parts='"wavconv", "app.py"'), True),
    (NAMED_SPEC.replace("os.getcwd()", '".."').format(parts='"tools", "bench.py"'), False),
    # A script the spec names that is nowhere to be found: any script may be the frozen one.
    (NAMED_SPEC.format(parts='"tools", "gone.py"'), True),
])
def test_a_spec_names_its_scripts_through_names_and_os_path_join(tmp_path, spec, reported):
    project = _tree(tmp_path, {"requirements-dev.txt": "pyinstaller>=6\n", "exe/wavconv.spec": spec,
                               "tools/bench.py": ENTRY, "pyproject.toml": "[project]\nname='w'\n"})
    assert bool(_mp202(project)) is reported


def test_freeze_support_called_inside_main_counts(tmp_path):
    # Buzz calls it first thing in main(); the guard only calls main().
    project = _tree(tmp_path, {"pyproject.toml": PYPROJECT, "wavconv.spec": ENTRY_SPEC.format(script="wavconv/app.py")})
    assert len(_mp202(project)) == 1  # without it
    entry = project / "wavconv" / "app.py"
    entry.write_text(ENTRY.replace("def main():\n", "def main():\n    multiprocessing.freeze_support()\n"))
    assert _mp202(project) == []
    helper = project / "wavconv" / "startup.py"
    helper.write_text("import multiprocessing\n\n\ndef prepare():\n    multiprocessing.freeze_support()\n")
    entry.write_text(ENTRY.replace("if __name__ == \"__main__\":\n", "if __name__ == \"__main__\":\n"
                                   "    from wavconv.startup import prepare\n    prepare()\n"))
    assert _mp202(project) == []  # through another module of the project too


QUEUED_ENTRY = '''\
"""Downloads models in a child, reporting progress through a queue."""
import multiprocessing


def download(progress):
    progress.put(100)


if __name__ == "__main__":
    progress = multiprocessing.Queue()
    {start}
    print(progress.get())
'''


@pytest.mark.parametrize(("start", "described", "platforms"), [
    ("multiprocessing.Process(target=download, args=(progress,)).start()",
     "Queue() (the resource tracker) (on Windows, Process.start())", ["windows", "macos", "linux"]),
    ("download(progress)", "Queue() (the resource tracker)", ["macos", "linux"]),
], ids=["a-process-after-the-queue", "the-queue-alone"])
def test_windows_has_no_resource_tracker(tmp_path, start, described, platforms):
    """A Queue starts the resource tracker under spawn and forkserver on POSIX; on Windows the
    process started after it is the one that runs the program again, if there is one."""
    project = _tree(tmp_path, {"pyproject.toml": PYPROJECT, "wavconv.spec": ENTRY_SPEC.format(script="wavconv/app.py")})
    (project / "wavconv" / "app.py").write_text(QUEUED_ENTRY.format(start=start))
    (finding,) = _mp202(project)
    assert finding.message.startswith(f"{described} in the entry script of a frozen application")
    assert [breakage.platform for breakage in finding.breaks_on] == platforms
