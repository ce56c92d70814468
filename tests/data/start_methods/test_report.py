"""Tests of a small latency report, as a project might have them. mpcheck's own tests run
them with `mpcheck run` and with pytest's --mp-start-method: the first passes under fork
only (its worker reads a setting the test changed after import; a spawned worker imports
this module afresh and sees the default)."""

import multiprocessing
import subprocess
import sys

SETTINGS = {"unit": "ms"}


def write_report(queue) -> None:
    queue.put(f"latency 12{SETTINGS['unit']}")


def test_report_uses_the_configured_unit():
    SETTINGS["unit"] = "s"  # configured at run time, as the command line does
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=write_report, args=(queue,))
    worker.start()
    line = queue.get(timeout=60)
    worker.join()
    assert line == "latency 12s"


def test_lengths_in_a_pool():
    with multiprocessing.Pool(2) as pool:
        assert pool.map(len, ["12ms", "3s"]) == [4, 2]


def test_command_line_entry_point():
    result = subprocess.run([sys.executable, "-c", "print('report ok')"], capture_output=True, text=True, check=True)
    assert result.stdout == "report ok\n"
