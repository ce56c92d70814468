"""SemanticModel.release: a model let go between files frees itself by reference counting
(no cycle is left for the collector), and a model that still holds another's answers works
them out again when that one was released."""

from __future__ import annotations

import gc
import textwrap
from pathlib import Path

import libcst as cst

import mpcheck.project
from mpcheck.model import SemanticModel
from mpcheck.project import Projects

from .test_mp601 import FREEMOCAP, _project

ROOT = Path(__file__).resolve().parent.parent


def test_a_released_model_leaves_no_cycle_for_the_collector():
    path = ROOT / "mpcheck" / "engine.py"  # a real module: classes, closures, comprehensions
    index = Projects().for_path(str(path))
    gc.collect()
    gc.disable()
    try:
        model = SemanticModel(cst.parse_module(path.read_text()), str(path), project=index)
        for site in model.calls:  # fill the caches the facts keep
            model.resolve(site.node.func)
        model.output.import_time_output(str(path))
        assert model.workers.handoffs() is not None and model.parent_state is not None
        model.release()
        assert model.released
        del model, site
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_output_through_a_released_model_is_worked_out_again(tmp_path, monkeypatch):
    # mocap/__init__.py calls configure_logging() of mocap/system/logs.py at import: its
    # output list holds that module's model. When the budget lets that model go (and it is
    # released between files), asking again parses the module again instead of answering
    # from the emptied model.
    root = _project(tmp_path, FREEMOCAP)
    index = Projects().for_path(str(root / "mocap/__init__.py"))
    package = index.module_at(root / "mocap/__init__.py")
    model = index.model_of(package)
    wanted = str(root / "mocap/system/logs.py")  # the file whose output is asked for (MP601 on it)
    first = [(output.model.path, output.label, output.chain) for output in model.output.import_time_output(wanted)]
    (logs,) = {output.model for output in model.output.import_time_output(wanted) if output.model is not model}
    index.model_of(package)  # used last: the budget keeps it, not the model of logs.py
    monkeypatch.setattr(mpcheck.project, "MAX_MODEL_SOURCE", package.size)
    index.forget_models()
    index.release_forgotten()
    assert logs.released and not model.released
    again = model.output.import_time_output(wanted)
    assert [(output.model.path, output.label, output.chain) for output in again] == first
    assert not any(output.model.released for output in again)


def test_a_name_that_is_no_function_is_not_parsed_again_after_its_model_went(tmp_path, monkeypatch):
    # compat.py defines `warn` twice (as the stdlib's warnings.py does): calling it follows no
    # function. Asked again once the budget let compat.py's model go, the answer is known
    # without parsing compat.py again; a function of it is still found.
    root = _project(tmp_path, {
        "app/__init__.py": "from . import compat\n",
        "app/compat.py": ("import sys\n\nif sys.flags.quiet:\n    def warn(text):\n        pass\n"
                          "else:\n    def warn(text):\n        print(text)\n\n\ndef note(text):\n    pass\n"),
    })
    caller = str(root / "app/__init__.py")
    index = Projects().for_path(caller)
    parsed = []
    model_of = mpcheck.project.ProjectIndex.model_of
    monkeypatch.setattr(mpcheck.project.ProjectIndex, "model_of",
                        lambda self, module: (None if module.parsed else parsed.append(module.name))
                        or model_of(self, module))
    monkeypatch.setattr(mpcheck.project, "MAX_MODEL_SOURCE", 0)
    for _ in range(2):
        assert index.definition_of(".compat.warn", caller) is None
        index.forget_models()
        index.release_forgotten()
    assert parsed == ["app.compat"]
    found = index.definition_of(".compat.note", caller)
    assert found is not None and found[1].name.value == "note"


RENDER_FARM = {
    # render.py starts its workers at import through farm.py: checking it asks for farm.py's
    # model, and farm.py is checked next.
    "render.py": """
        import farm

        farm.render_all(["intro.blend", "credits.blend"])
        """,
    "farm.py": """
        import multiprocessing


        def render(scene):
            print("rendering", scene)


        def render_all(scenes):
            with multiprocessing.Pool(2) as pool:
                pool.map(render, scenes)
        """,
}


def test_a_file_whose_model_another_files_check_made_is_not_parsed_again(tmp_path, monkeypatch):
    import mpcheck.parsing
    from mpcheck.engine import Checker

    root = _project(tmp_path, {name: textwrap.dedent(text).lstrip() for name, text in RENDER_FARM.items()})
    files = [(root / name, str(root / name)) for name in RENDER_FARM]
    parse_module = mpcheck.parsing.parse_module
    parsed = []
    monkeypatch.setattr(mpcheck.parsing, "parse_module",
                        lambda text, *given: parsed.append(text) or parse_module(text, *given))

    def findings(listed) -> list[tuple[str, int, str]]:
        return [(result.path, diagnostic.line, diagnostic.code)
                for result in Checker().run_files(listed, jobs=1) for diagnostic in result.diagnostics]

    together = findings(files)
    assert sorted(parsed) == sorted((root / name).read_text() for name in RENDER_FARM)
    assert (str(root / "render.py"), 3, "MP201") in together
    assert together == findings(files[:1]) + findings(files[1:])  # the same as each checked alone


def test_a_model_made_from_an_older_text_of_the_file_is_not_used(tmp_path):
    # The project read farm.py for render.py's check; then farm.py changed on disk (another
    # `mpcheck fix` wrote it) before its own check, which must look at the new text.
    from mpcheck.engine import Checker

    files = {name: textwrap.dedent(text).lstrip() for name, text in RENDER_FARM.items()}
    files["farm.py"] = "from multiprocessing.context import ForkProcess\n" + files["farm.py"]
    root = _project(tmp_path, files)
    render, farm = root / "render.py", root / "farm.py"
    checker = Checker()
    assert checker.check_file(render, str(render)).diagnostics  # (a run would release the models at its end)
    farm.write_text("# rendered at night\n\n" + files["farm.py"])

    def findings(checker: Checker) -> list[tuple[int, str]]:
        (result,) = checker.run_files([(farm, str(farm))], jobs=1)
        return [(diagnostic.line, diagnostic.code) for diagnostic in result.diagnostics]

    assert findings(checker) == findings(Checker()) != []
    assert findings(checker)[0][0] == 3
    fixed = checker.fix_file(farm, str(farm))
    assert fixed.fixed_text is not None and not any(d.code == "MP000" for d in fixed.diagnostics)


def test_a_run_releases_the_models_it_kept_when_it_is_over(tmp_path, monkeypatch):
    # Between files the budget keeps models (render.py's check made farm.py's, which farm.py's
    # check uses); when the run is over they are released, so that reference counting frees
    # them, not a full collection when the command turns the collector back on.
    from mpcheck.engine import Checker

    root = _project(tmp_path, {name: textwrap.dedent(text).lstrip() for name, text in RENDER_FARM.items()})
    made: list[SemanticModel] = []
    init = SemanticModel.__init__

    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(SemanticModel, "__init__", recording)
    checker = Checker()
    results = checker.run_files([(root / name, name) for name in RENDER_FARM], jobs=1)
    assert next(results).diagnostics and not any(model.released for model in made)  # kept for farm.py
    list(results)
    assert len(made) == 2 and all(model.released for model in made)
    assert [d.code for d in checker.check_file(root / "farm.py", "farm.py").diagnostics] == \
        [d.code for d in Checker().check_file(root / "farm.py", "farm.py").diagnostics]
