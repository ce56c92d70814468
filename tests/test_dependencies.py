"""What a result depends on is noted into every recording open, also when the answer was
worked out earlier in the run (a file checked after another must record the reads the first
one's check made for both, or the result cache trusts its entry after they change)."""

from __future__ import annotations

from pathlib import Path

from mpcheck.apis import PROCESS_WORDS
from mpcheck.dependencies import Remembered, note_file, recording

from .support import project_index


def test_a_remembered_result_is_worked_out_once_and_its_reads_noted_on_every_use() -> None:
    memo: Remembered[str, int] = Remembered()
    worked = []

    def work_out() -> int:
        worked.append(1)
        note_file("/project/jobs.py", "digest")
        return 42

    with recording() as first:
        assert memo.get("jobs", work_out) == 42
    with recording() as second, recording() as inner:
        assert memo.get("jobs", work_out) == 42
    assert worked == [1]
    assert first.files == second.files == inner.files == {"/project/jobs.py": "digest"}


PROJECT = {
    "app.py": """
        import tasks

        tasks.run_all()
        """,
    "tasks.py": """
        from helpers import start

        def run_all():
            start()
        """,
    "helpers.py": """
        import multiprocessing

        def start():
            multiprocessing.Process(target=print).start()
        """,
}


def test_the_modules_a_name_reaches_through_are_noted_into_each_recording(tmp_path: Path) -> None:
    index = project_index(tmp_path, PROJECT)
    app = tmp_path / "app.py"
    text = app.read_text()
    expected = {str(tmp_path / name) for name in PROJECT}
    # The first answer settles the modules; the later ones are read from what it found, and
    # must note the same modules: in a later recording, in one nested in an open one, and
    # when asked again in the same one.
    with recording() as first:
        assert index.uses_names_reaching(app, text, PROCESS_WORDS)
    with recording() as second:
        assert index.uses_names_reaching(app, text, PROCESS_WORDS)
        with recording() as nested:
            assert index.uses_names_reaching(app, text, PROCESS_WORDS)
        assert index.uses_names_reaching(app, text, PROCESS_WORDS)
    for reads in (first, second, nested):
        assert expected <= set(reads.files), reads.files


def test_what_leads_to_a_module_is_noted_into_each_recording(tmp_path: Path) -> None:
    index = project_index(tmp_path, PROJECT)
    app, tasks, helpers = (str(tmp_path / name) for name in ("app.py", "tasks.py", "helpers.py"))
    for _ in range(2):  # worked out, then remembered
        with recording() as reads:
            assert index.leads_to("tasks.run_all", app, helpers)
            assert not index.leads_to("helpers.start", app, tasks)
        assert {tasks, helpers} <= set(reads.files), reads.files


def test_what_leads_to_a_module_is_worked_out_again_once_a_text_changes(tmp_path: Path) -> None:
    # app.py imports tasks.py, which imports helpers.py; then tasks.py's import goes (a fix
    # changed the text being checked): app.py, unchanged, no longer leads to helpers.py.
    index = project_index(tmp_path, PROJECT)
    tasks, helpers = str(tmp_path / "tasks.py"), str(tmp_path / "helpers.py")
    assert index.leads_to("app.main", helpers, helpers)
    index.set_text(Path(tasks), "def run_all():\n    pass\n")
    assert not index.leads_to("app.main", helpers, helpers)
