"""MP501's advice names the way the API in question lets a worker get the value: an argument
always, and the function each worker runs first where the API has one (a Process has none:
its target is that function; a DataLoader's is `worker_init_fn`)."""

from __future__ import annotations

import textwrap

import pytest

from mpcheck.engine import Checker

_SCRIPT = """\
import multiprocessing

import torch

SCALE = 1


class Doubled(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return index * SCALE


def work(n):
    return n * SCALE


if __name__ == "__main__":
    SCALE = 10
    {start}
"""


@pytest.mark.parametrize(("start", "advice"), [
    ("multiprocessing.Process(target=work, args=(1,)).start()", "pass it as an argument"),
    ("print(multiprocessing.Pool(2).map(work, range(3)))",
     "pass it as an argument or set it in the worker through `initializer=`"),
    ("print(list(torch.utils.data.DataLoader(Doubled(), num_workers=2)))",
     "pass it as an argument or set it in the worker through `worker_init_fn=`"),
], ids=["process", "pool", "data-loader"])
def test_the_advice_fits_the_api(start: str, advice: str) -> None:
    text = textwrap.dedent(_SCRIPT).format(start=start)
    found = [diagnostic for diagnostic in Checker(fix_edits=False).check_text(text, "train.py")
             if diagnostic.code == "MP501"]
    assert len(found) == 1, found
    assert found[0].message.endswith(f"re-imports the module and sees the import-time value; {advice}")
