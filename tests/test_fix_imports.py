"""The import helper and fresh names: a fix asks for a module or a name and gets the local
expression to write; each import is added once, with the module's other imports."""

from __future__ import annotations

import pytest

import mpcheck
from mpcheck.findings import Applicability
from mpcheck.fixes import fresh_name

from .fixkit import Module, fixed_text, source


def use(module_name: str, name: str | None = None, at: str = "start(", as_call: str = "{}.freeze_support()"):
    """A fix builder that inserts a call of `module_name[.name]` before the statement `at`."""

    def build(module, fix):
        anchor = module.statement(at)
        if name is None:
            expression = fix.need_module(module_name, before=anchor)
        else:
            expression = fix.need_name(module_name, name, before=anchor)
        fix.insert_before(anchor, [fix.statement(as_call.format(expression))])

    build.__name__ = f"use_{module_name}_{name}"
    return build


SCRIPT = source('''
    """Start the workers."""
    import sys

    from tasks import start


    if __name__ == "__main__":
        start(sys.argv[1:])
''')


def test_an_existing_alias_is_used_and_nothing_is_added():
    text = SCRIPT.replace("import sys\n", "import sys\nimport multiprocessing as mp\n")
    assert fixed_text(text, use("multiprocessing")) == text.replace(
        "    start(sys.argv", "    mp.freeze_support()\n    start(sys.argv")


def test_an_import_written_differently_is_still_recognised():
    text = SCRIPT.replace("import sys\n", "import sys\nimport   multiprocessing  # noqa: I001\n")
    assert fixed_text(text, use("multiprocessing")).count("import") == text.count("import")


def test_a_standard_library_import_goes_with_the_standard_library_ones():
    # isort's and ruff's groups: standard library, third party, first party.
    assert fixed_text(SCRIPT, use("multiprocessing")) == source('''
        """Start the workers."""
        import sys
        import multiprocessing

        from tasks import start


        if __name__ == "__main__":
            multiprocessing.freeze_support()
            start(sys.argv[1:])
    ''')


def test_an_alias_imported_only_after_the_code_is_not_used():
    text = SCRIPT + "\nimport multiprocessing as mp\n"
    fixed = fixed_text(text, use("multiprocessing"))
    assert "    multiprocessing.freeze_support()\n" in fixed
    assert fixed.index("import multiprocessing\n") < fixed.index("if __name__")


def test_an_alias_that_is_rebound_is_not_used():
    text = SCRIPT.replace("import sys\n", "import sys\nimport multiprocessing as mp\n").replace(
        "\n\nif __name__", "\nmp = None\n\n\nif __name__")
    assert "    multiprocessing.freeze_support()\n" in fixed_text(text, use("multiprocessing"))


def test_a_package_import_gives_the_dotted_name():
    text = SCRIPT.replace("import sys\n", "import sys\nimport multiprocessing.pool\n")
    fixed = fixed_text(text, use("multiprocessing"), use("multiprocessing.pool", as_call="{}.ThreadPool()"))
    assert "    multiprocessing.freeze_support()\n    multiprocessing.pool.ThreadPool()\n" in fixed
    assert fixed.count("import") == text.count("import")


def test_an_existing_from_import_is_used():
    text = SCRIPT.replace("import sys\n", "import sys\nfrom functools import partial as bind\n")
    fixed = fixed_text(text, use("functools", "partial", as_call="{}(print)"))
    assert "    bind(print)\n" in fixed and fixed.count("import") == text.count("import")


def test_an_existing_module_import_is_used_for_a_name():
    text = SCRIPT.replace("import sys\n", "import sys\nimport functools\n")
    fixed = fixed_text(text, use("functools", "partial", as_call="{}(print)"))
    assert "    functools.partial(print)\n" in fixed and fixed.count("import") == text.count("import")


def test_a_free_name_is_imported_from_its_module():
    fixed = fixed_text(SCRIPT, use("functools", "partial", as_call="{}(print)"))
    assert "import sys\nfrom functools import partial\n" in fixed
    assert "    partial(print)\n" in fixed


def test_a_taken_name_is_reached_through_its_module():
    text = SCRIPT.replace("if __name__", "partial = None\n\n\nif __name__")
    fixed = fixed_text(text, use("functools", "partial", as_call="{}(print)"))
    assert "import sys\nimport functools\n" in fixed
    assert "    functools.partial(print)\n" in fixed


def test_a_taken_module_name_gets_an_alias():
    text = SCRIPT.replace("if __name__", "partial = functools = None\n\n\nif __name__")
    fixed = fixed_text(text, use("functools", "partial", as_call="{}(print)"))
    assert "import functools as functools_2\n" in fixed
    assert "    functools_2.partial(print)\n" in fixed


def test_two_fixes_needing_one_import_add_it_once():
    fixed = fixed_text(SCRIPT, use("multiprocessing"), use("multiprocessing", as_call="{}.set_executable('x')"))
    assert fixed.count("import multiprocessing\n") == 1


def test_two_fixes_needing_names_of_one_module_share_a_line():
    fixed = fixed_text(SCRIPT, use("functools", "partial", as_call="{}(print)"),
                       use("functools", "reduce", as_call="{}(max, [1])"))
    assert "from functools import partial, reduce\n" in fixed


def test_imports_go_after_the_docstring_and_future_imports():
    text = source('''
        """Start the workers."""
        from __future__ import annotations
        start = print


        if __name__ == "__main__":
            start()
    ''')
    assert fixed_text(text, use("multiprocessing")) == source('''
        """Start the workers."""
        from __future__ import annotations
        import multiprocessing
        start = print


        if __name__ == "__main__":
            multiprocessing.freeze_support()
            start()
    ''')


def test_the_first_import_of_a_module_is_set_apart():
    text = '"""Start the workers."""\nstart = print\nstart()\n'
    assert fixed_text(text, use("multiprocessing")) == (
        '"""Start the workers."""\n\nimport multiprocessing\n\nstart = print\nmultiprocessing.freeze_support()\nstart()\n')


def test_imports_in_a_try_block_count_as_the_import_block():
    text = source('''
        import sys

        try:
            import numpy as np
        except ImportError:  # optional
            np = None
        __all__ = ["main"]
        start = print


        if __name__ == "__main__":
            start(sys.argv)
    ''')
    assert fixed_text(text, use("multiprocessing")) == source('''
        import sys
        import multiprocessing

        try:
            import numpy as np
        except ImportError:  # optional
            np = None
        __all__ = ["main"]
        start = print


        if __name__ == "__main__":
            multiprocessing.freeze_support()
            start(sys.argv)
    ''')


def test_code_inside_the_import_block_gets_its_import_ahead_of_it():
    text = source('''
        import sys
        from tasks import start
        start(sys.argv)
        import os
    ''')
    fixed = fixed_text(text, use("multiprocessing"))
    assert fixed == "import sys\nimport multiprocessing\nfrom tasks import start\nmultiprocessing.freeze_support()\n" \
        "start(sys.argv)\nimport os\n"
    third_party = text.replace("import sys\n", "import numpy\n").replace("sys.argv", "numpy.ones(2)")
    assert fixed_text(third_party, use("multiprocessing")).startswith(
        "import numpy\nfrom tasks import start\nimport multiprocessing\nmultiprocessing.freeze_support()\n")


def test_a_third_party_import_goes_at_the_end_of_the_block():
    fixed = fixed_text(SCRIPT, use("numpy", "ones", as_call="{}(2)"))
    assert "from tasks import start\nfrom numpy import ones\n" in fixed


# -- fresh names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("base", "taken", "expected"), [
    ("worker", set(), "worker"),
    ("worker", {"worker"}, "worker_2"),
    ("worker", {"worker", "worker_2", "worker_3"}, "worker_4"),
    ("list", set(), "list_2"),  # a builtin
    ("lambda", set(), "lambda_2"),  # a keyword
])
def test_fresh_name(base, taken, expected):
    assert fresh_name(base, taken) == expected


def test_fresh_name_needs_an_identifier():
    with pytest.raises(ValueError):
        fresh_name("not a name", set())


def test_a_fix_does_not_reuse_its_own_fresh_names_or_imports():
    module = Module(SCRIPT)
    fix = module.fix()
    assert fix.need_name("functools", "partial", before=module.statement("start(")) == "partial"
    assert [fix.fresh_name("start"), fix.fresh_name("start"), fix.fresh_name("partial")] == \
        ["start_2", "start_3", "partial_2"]


def test_two_fixes_binding_one_fresh_name_differently_take_two_rounds():
    module = Module(SCRIPT)
    fixes = []
    for value in ("1", "2"):
        fix = module.fix()
        name = fix.fresh_name("limit")
        fix.insert_before(module.statement("start("), [fix.statement(f"{name} = {value}")])
        fixes.append(fix.build(Applicability.SAFE, value))
    text, applied = module.apply(fixes)
    assert applied == fixes[:1] and "limit = 1" in text and "limit = 2" not in text


def test_two_rule_fixes_needing_one_import_add_it_once_in_one_round():
    text = source('''
        """Two contexts."""
        from multiprocessing import get_context


        def first():
            return get_context("fork")


        def second():
            return get_context("forkserver")
    ''')
    result = mpcheck.Checker().fix_text(text, "contexts.py")
    assert (result.rounds, len(result.fixed)) == (1, 2)
    assert result.fixed_text.startswith('"""Two contexts."""\nfrom multiprocessing import get_context\n'
                                        'import multiprocessing\n\n\ndef first():\n')
    assert result.fixed_text.count("import multiprocessing\n") == 1
