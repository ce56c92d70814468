"""MP703: which SharedMemory/ShareableList calls attach with the resource tracker, and what
`target-version` changes."""

from __future__ import annotations

import pytest

import mpcheck
from mpcheck import Settings

HEAD = "from multiprocessing import shared_memory\nfrom multiprocessing.shared_memory import ShareableList\nname = 'psm_1'\n"


def findings(code: str, **settings) -> list:
    return mpcheck.check_source(HEAD + code, "viewer.py", settings=Settings(select=("MP703",), **settings))


ATTACHES = {
    "name keyword": "shared_memory.SharedMemory(name=name)",
    "name positional": "shared_memory.SharedMemory(name)",
    "create=False": "shared_memory.SharedMemory(name, False)",
    "track=True": "shared_memory.SharedMemory(name=name, track=True)",
    "list by name": "ShareableList(name=name)",
}


@pytest.mark.parametrize("call", ATTACHES.values(), ids=ATTACHES.keys())
def test_attaches_are_flagged_on_linux_and_macos(call):
    [finding] = findings(f"segment = {call}\n")
    assert finding.text.endswith("(breaks on: Linux; macOS)")
    assert findings(f"segment = {call}\n", platforms=("windows",)) == []


NOT_ATTACHES = {
    "create": "shared_memory.SharedMemory(create=True, size=8)",
    "create with a name": "shared_memory.SharedMemory(name, create=True, size=8)",
    "create unknown": "shared_memory.SharedMemory(name, create=flag, size=8)",
    "track=False": "shared_memory.SharedMemory(name=name, track=False)",
    "track unknown": "shared_memory.SharedMemory(name=name, track=flag)",
    "keyword arguments": "shared_memory.SharedMemory(**options)",
    "a new list": "ShareableList([1, 2, 3], name=name)",
    "no name": "ShareableList()",
    "a manager": "__import__('multiprocessing').managers.SharedMemoryManager()",
}


@pytest.mark.parametrize("call", NOT_ATTACHES.values(), ids=NOT_ATTACHES.keys())
def test_creating_or_untracked_calls_are_silent(call):
    assert findings(f"import os\nflag = \"TRACK\" in os.environ\noptions = {{}}\nsegment = {call}\n") == []


def test_unregistering_anywhere_in_the_file_or_patching_register_is_enough():
    attach = "segment = shared_memory.SharedMemory(name=name)\n"
    assert findings("from multiprocessing import resource_tracker\n" + attach
                    + "resource_tracker.unregister(segment._name, 'shared_memory')\n") == []
    assert findings("import multiprocessing.resource_tracker as rt\nrt.register = lambda *args: None\n" + attach) == []


PATCHED = {
    "patch": ("from unittest.mock import patch\n",
              'with patch("multiprocessing.resource_tracker.register", lambda *args, **kwargs: None):\n'),
    "mock.patch with other items": ("from unittest import mock\nimport contextlib\n",
                                    "with contextlib.nullcontext(), mock.patch(\n"
                                    '        "multiprocessing.resource_tracker.register", lambda *a, **k: None):\n'),
    "patch.object": ("from unittest.mock import patch\nfrom multiprocessing import resource_tracker\n",
                     'with patch.object(resource_tracker, "register", lambda *a, **k: None):\n'),
}


@pytest.mark.parametrize(("imports", "opening"), PATCHED.values(), ids=PATCHED.keys())
def test_an_attach_with_register_patched_away_is_silent(imports, opening):
    attach = "    segment = shared_memory.SharedMemory(name=name)\n"
    assert findings(imports + opening + attach) == []
    # A patch that is made but never entered (a bug some projects have) patches nothing.
    never_entered = imports + opening.replace("with ", "").rstrip(":\n") + "\n" + attach.lstrip()
    assert len(findings(never_entered)) == 1


def test_a_subclass_whose_constructor_patches_register_is_its_own_business():
    # lightllm's later fix of exactly this hazard: one class for every segment it shares.
    code = (
        "from unittest.mock import patch\n\n"
        "class ServiceSharedMemory(shared_memory.SharedMemory):\n"
        "    def __init__(self, name, create=False, size=0):\n"
        '        with patch("multiprocessing.resource_tracker.register", lambda *args, **kwargs: None):\n'
        "            super().__init__(name=name, create=create, size=size)\n\n"
        "segment = ServiceSharedMemory(name=name)\n"
    )
    assert findings(code) == []
    # A subclass that keeps the constructor attaches as SharedMemory does.
    plain = "class Frame(shared_memory.SharedMemory):\n    pass\n\nsegment = Frame(name=name)\n"
    assert len(findings(plain)) == 1


def test_an_attach_that_unlinks_the_segment_itself_is_its_owner():
    # mosaicml/streaming's clean-up of leaked segments: attach, close, unlink.
    code = ("def clean(names):\n    for leaked in names:\n        shm = shared_memory.SharedMemory(leaked, False, 4)\n"
            "        shm.close()\n        shm.unlink()\n")
    assert findings(code) == []
    assert len(findings(code.replace("        shm.unlink()\n", ""))) == 1
    assert len(findings(code.replace("shm.unlink()", "other.unlink()").replace("names):", "names, other):"))) == 1
    # `if shm:` tests the segment itself; an unlink only when something is wrong (lightllm's
    # size check) leaves the usual attach tracked.
    assert findings(code.replace("        shm.unlink()\n", "        if shm:\n            shm.unlink()\n")) == []
    resized = code.replace("        shm.unlink()\n", "        if shm.size != 4:\n            shm.unlink()\n")
    assert len(findings(resized)) == 1
    # An unlink before the attach removed an earlier segment, not this one.
    reattached = ("def reopen(name):\n    old = shared_memory.SharedMemory(name, True, 4)\n    old.unlink()\n"
                  "    old = shared_memory.SharedMemory(name, False, 4)\n    return old\n")
    assert len(findings(reattached)) == 1


def test_target_version_names_the_remedy():
    [old] = findings("segment = shared_memory.SharedMemory(name=name)\n", target_version=(3, 10))
    assert "resource_tracker.unregister" in old.message and "track=False" in old.message
    [new] = findings("segment = shared_memory.SharedMemory(name=name)\n", target_version=(3, 13))
    assert new.message.endswith("pass `track=False`")
    # Reported, never rewritten.
    source = HEAD + "segment = shared_memory.SharedMemory(name=name)\n"
    settings = Settings(select=("MP703",), target_version=(3, 13))
    assert mpcheck.fix_source(source, "viewer.py", settings=settings, unsafe_fixes=True).text == source


WORKER = '''\
import multiprocessing
from multiprocessing import shared_memory


def fill(name):
    segment = shared_memory.SharedMemory(name=name)
    segment.buf[0] = 1
    segment.close()


if __name__ == "__main__":
    owner = shared_memory.SharedMemory(create=True, size=1)
    multiprocessing.Process(target=fill, args=(owner.name,)).start()
'''


def test_an_attach_in_this_files_worker_shares_the_creators_tracker():
    assert mpcheck.check_source(WORKER, "fill.py", settings=Settings(select=("MP703",))) == []
    # A function no process call of this file runs may run in a process of its own.
    standalone = WORKER.replace("multiprocessing.Process(target=fill, args=(owner.name,)).start()", "fill(owner.name)")
    assert len(mpcheck.check_source(standalone, "fill.py", settings=Settings(select=("MP703",)))) == 1
    # A file that creates nothing attaches to someone else's segment, wherever it does.
    consumer = WORKER.replace("owner = shared_memory.SharedMemory(create=True, size=1)", "owner = object()")
    assert len(mpcheck.check_source(consumer, "fill.py", settings=Settings(select=("MP703",)))) == 1
