"""SemanticModel.release: a model let go between files frees itself by reference counting
(no cycle is left for the collector), and a model that still holds another's answers works
them out again when that one was released."""

from __future__ import annotations

import gc
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
        model.output.import_time_output()
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
    first = [(output.model.path, output.label, output.chain) for output in model.output.import_time_output()]
    (logs,) = {output.model for output in model.output.import_time_output() if output.model is not model}
    index.model_of(package)  # used last: the budget keeps it, not the model of logs.py
    monkeypatch.setattr(mpcheck.project, "MAX_MODEL_SOURCE", package.size)
    index.forget_models()
    index.release_forgotten()
    assert logs.released and not model.released
    again = model.output.import_time_output()
    assert [(output.model.path, output.label, output.chain) for output in again] == first
    assert not any(output.model.released for output in again)
