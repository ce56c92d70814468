"""The fix engine's edits, as before/after pairs (pyupgrade's style): replacements that
compose, statement inserts, removals and moves with their comments and blank lines, and
which edits of which fixes share a round."""

from __future__ import annotations

import libcst as cst
import pytest

import mpcheck
from mpcheck.findings import Applicability

from .fixkit import Module, fixed_text, source

# -- replacements that compose ------------------------------------------------------------------

WORKER = source('''
    import multiprocessing


    def start(jobs):
        # one process per job
        for job in jobs:
            worker = multiprocessing.Process(target=lambda: job.run(), name=job.name)
            worker.start()
''')


def test_outer_function_edit_receives_inner_edits_of_two_other_fixes():
    def rename_function(module, fix):
        # the outer edit: a function of the updated node, so the inner edits survive
        fix.replace(module.statement("def start"), lambda updated: updated.with_changes(name=cst.Name("start_all")))

    def name_the_target(module, fix):
        fix.replace(module.node("lambda: job.run()"), cst.Name("run_job"))

    def rename_argument(module, fix):
        fix.replace(module.node("name=job.name", cst.Arg), lambda arg: arg.with_changes(keyword=cst.Name("label")))

    assert fixed_text(WORKER, rename_function, name_the_target, rename_argument) == source('''
        import multiprocessing


        def start_all(jobs):
            # one process per job
            for job in jobs:
                worker = multiprocessing.Process(target=run_job, label=job.name)
                worker.start()
    ''')


def test_nested_function_edits_of_one_fix_compose():
    def wrap_and_rename(module, fix):
        call = module.node("multiprocessing.Process(target=lambda: job.run(), name=job.name)")
        fix.replace(module.node("job.run()"), lambda node: node.with_changes(func=cst.parse_expression("job.execute")))
        fix.replace(call, lambda node: cst.Call(func=cst.Name("supervised"), args=[cst.Arg(node)]))

    # the longer line is wrapped at 88 columns
    assert "        worker = supervised(\n            multiprocessing.Process(target=lambda: job.execute(), name=job.name)\n" \
        "        )\n" in fixed_text(WORKER, wrap_and_rename)


def test_a_fixed_replacement_over_an_edit_of_the_same_fix_is_an_error():
    module = Module(WORKER)
    fix = module.fix()
    fix.replace(module.node("job.run()"), cst.parse_expression("job.execute()"))
    fix.replace(module.statement("def start"), cst.parse_statement("def start(jobs):\n    pass\n"))
    with pytest.raises(ValueError, match="pass a function"):
        module.apply([fix.build(Applicability.SAFE, "drops its own edit")])


def test_a_fixed_replacement_over_another_fixes_edit_waits_for_the_next_round():
    module = Module(WORKER)
    inner = module.fix()
    inner.replace(module.node("job.run()"), cst.parse_expression("job.execute()"))
    outer = module.fix()
    outer.replace(module.statement("def start"), cst.parse_statement("def start(jobs):\n    pass\n"))
    first, second = inner.build(Applicability.SAFE, "inner"), outer.build(Applicability.SAFE, "outer")
    text, applied = module.apply([first, second])
    assert applied == [first] and "job.execute()" in text
    # the other order: the outer fix is admitted and the inner one waits
    text, applied = module.apply([second, first])
    assert applied == [second] and "pass" in text


def test_two_fixes_replacing_one_node_do_not_share_a_round():
    module = Module(WORKER)
    fixes = []
    for name in ("a", "b"):
        fix = module.fix()
        fix.replace(module.node("job.name"), cst.Name(name))
        fixes.append(fix.build(Applicability.SAFE, name))
    text, applied = module.apply(fixes)
    assert applied == fixes[:1] and "name=a" in text


# -- statement edits -----------------------------------------------------------------------------

PIPELINE = source('''
    """Resize images."""
    import os

    SIZES = (64, 128)


    def resize(path):
        if not os.path.exists(path):
            # nothing to do
            return None

        # the real work
        width, height = SIZES
        return (path, width, height)


    # Run it.
    for image in ["a.png", "b.png"]:
        print(resize(image))
''')


def test_insert_before_goes_above_the_statements_own_comment():
    def insert(module, fix):
        fix.insert_before(module.statement("width, height = SIZES"), [cst.parse_statement("log(path)")])

    assert fixed_text(PIPELINE, insert) == source('''
        """Resize images."""
        import os

        SIZES = (64, 128)


        def resize(path):
            if not os.path.exists(path):
                # nothing to do
                return None

            log(path)
            # the real work
            width, height = SIZES
            return (path, width, height)


        # Run it.
        for image in ["a.png", "b.png"]:
            print(resize(image))
    ''')


def test_insert_after_in_a_nested_block_and_at_module_level():
    def insert(module, fix):
        fix.insert_after(module.statement("return None"), [cst.parse_statement("raise SystemExit(1)")])
        fix.insert_after(module.statement("import os"), [cst.parse_statement("import sys")])

    assert fixed_text(PIPELINE, insert) == source('''
        """Resize images."""
        import os
        import sys

        SIZES = (64, 128)


        def resize(path):
            if not os.path.exists(path):
                # nothing to do
                return None
                raise SystemExit(1)

            # the real work
            width, height = SIZES
            return (path, width, height)


        # Run it.
        for image in ["a.png", "b.png"]:
            print(resize(image))
    ''')


def test_inserted_definition_gets_blank_lines_like_black():
    def insert(module, fix):
        fix.insert_before(module.statement("SIZES ="), [cst.parse_statement("def scale(n):\n    return n * 2\n")])

    assert fixed_text(PIPELINE, insert).startswith(source('''
        """Resize images."""
        import os


        def scale(n):
            return n * 2


        SIZES = (64, 128)
    '''))


def test_remove_keeps_its_comments_and_the_spacing():
    # A fix never removes a comment: it may say more than the statement did.
    def remove(module, fix):
        fix.remove(module.statement("width, height = SIZES"))
        fix.remove(module.statement("SIZES ="))

    assert fixed_text(PIPELINE, remove) == source('''
        """Resize images."""
        import os


        def resize(path):
            if not os.path.exists(path):
                # nothing to do
                return None

            # the real work
            return (path, width, height)


        # Run it.
        for image in ["a.png", "b.png"]:
            print(resize(image))
    ''')


def test_removing_a_blocks_only_statement_leaves_pass():
    def remove(module, fix):
        fix.remove(module.statement("return None"))

    assert fixed_text(PIPELINE, remove) == source('''
        """Resize images."""
        import os

        SIZES = (64, 128)


        def resize(path):
            if not os.path.exists(path):
                # nothing to do
                pass

            # the real work
            width, height = SIZES
            return (path, width, height)


        # Run it.
        for image in ["a.png", "b.png"]:
            print(resize(image))
    ''')


def test_removing_every_statement_of_a_block_by_two_fixes_leaves_pass():
    text = source('''
        def stop(pool):
            pool.close()
            pool.join()
    ''')

    def close(module, fix):
        fix.remove(module.statement("pool.close()"))

    def join(module, fix):
        fix.remove(module.statement("pool.join()"))

    assert fixed_text(text, close, join) == "def stop(pool):\n    pass\n"


def test_moved_statement_keeps_its_comment_and_one_blank_line_in_a_nested_block():
    def move(module, fix):
        fix.move([module.statement("for image in")], after=module.statement("return (path"))

    assert fixed_text(PIPELINE, move) == source('''
        """Resize images."""
        import os

        SIZES = (64, 128)


        def resize(path):
            if not os.path.exists(path):
                # nothing to do
                return None

            # the real work
            width, height = SIZES
            return (path, width, height)

            # Run it.
            for image in ["a.png", "b.png"]:
                print(resize(image))
    ''')


def test_move_a_nested_function_to_module_level():
    text = source('''
        import multiprocessing


        def main(scale):
            # Scale one number.
            def work(n):
                return n * scale

            with multiprocessing.Pool() as pool:
                print(pool.map(work, range(3)))


        if __name__ == "__main__":
            main(2)
    ''')

    def hoist(module, fix):
        fix.move([module.statement("def work")], before=module.statement("def main"))

    assert fixed_text(text, hoist) == source('''
        import multiprocessing


        # Scale one number.
        def work(n):
            return n * scale


        def main(scale):
            with multiprocessing.Pool() as pool:
                print(pool.map(work, range(3)))


        if __name__ == "__main__":
            main(2)
    ''')


def test_moved_statement_keeps_the_edits_made_inside_it():
    text = source('''
        def outer():
            def inner(x):
                return helper(x)

            return inner
    ''')

    def hoist_and_edit(module, fix):
        fix.move([module.statement("def inner")], before=module.statement("def outer"))
        fix.replace(module.node("helper"), cst.Name("partner"))

    assert fixed_text(text, hoist_and_edit) == source('''
        def inner(x):
            return partner(x)


        def outer():
            return inner
    ''')


def test_take_builds_a_new_block_around_moved_statements():
    text = source('''
        import multiprocessing

        pool = multiprocessing.Pool(2)
        # square them
        print(pool.map(abs, [-1, -2]))
        pool.close()
        pool.join()
    ''')

    def with_block(module, fix):
        # the shape of a `with`-block codemod: a template whose body holes are moved statements
        pool = module.statement("pool = ")
        block = fix.statement("with {pool} as pool:\n    {first}\n    {second}\n", pool=module.node("multiprocessing.Pool(2)"),
                              first=fix.take(module.statement("print(")), second=fix.take(module.statement("pool.close()")))
        fix.remove(module.statement("pool.join()"))
        fix.replace(pool, block.with_changes(leading_lines=pool.leading_lines))

    assert fixed_text(text, with_block) == source('''
        import multiprocessing

        with multiprocessing.Pool(2) as pool:
            # square them
            print(pool.map(abs, [-1, -2]))
            pool.close()
    ''')


def test_a_statement_replaced_whole_keeps_the_comment_at_the_end_of_its_line():
    # Found by fuzzing MP302's with-block fix.
    text = source('''
        import multiprocessing

        pool = multiprocessing.Pool(2)  # two workers
        print(pool.map(abs, [-1, -2]))  # two workers
    ''')

    def with_block(module, fix):
        block = fix.statement("with {pool} as pool:\n    {first}\n", pool=module.node("multiprocessing.Pool(2)"),
                              first=fix.take(module.statement("print(")))
        pool = module.statement("pool = ")
        fix.replace(pool, block.with_changes(leading_lines=pool.leading_lines))

    assert fixed_text(text, with_block) == source('''
        import multiprocessing

        with multiprocessing.Pool(2) as pool:  # two workers
            print(pool.map(abs, [-1, -2]))  # two workers
    ''')


def test_comments_a_replacement_leaves_out_go_above_its_statement():
    text = source('''
        import multiprocessing

        pool = multiprocessing.Pool(  # sized for the build machine
            4,  # one per core
        )  # closed at exit
    ''')

    def default_size(module, fix):
        fix.replace(module.node("multiprocessing.Pool(  # sized for the build machine\n    4,  # one per core\n)"),
                    fix.expression("multiprocessing.Pool()"))

    assert fixed_text(text, default_size) == source('''
        import multiprocessing

        # sized for the build machine
        # one per core
        pool = multiprocessing.Pool()  # closed at exit
    ''')


def test_a_removed_statement_leaves_its_comments():
    text = source('''
        def stop(pool):
            pool.close()  # no more tasks
            pool.join()
    ''')

    def remove(module, fix):
        fix.remove(module.statement("pool.close()"))

    assert fixed_text(text, remove) == "def stop(pool):\n    # no more tasks\n    pool.join()\n"


def test_a_statement_moved_into_itself_is_an_error():
    module = Module(PIPELINE)
    fix = module.fix()
    fix.move([module.statement("def resize")], after=module.statement("return None"))
    with pytest.raises(ValueError, match="into itself"):
        module.apply([fix.build(Applicability.SAFE, "loop")])


def test_a_taken_statement_must_be_placed():
    module = Module(PIPELINE)
    fix = module.fix()
    fix.take(module.statement("SIZES ="))
    with pytest.raises(ValueError, match="never placed"):
        module.apply([fix.build(Applicability.SAFE, "lost")])


def test_statement_edits_need_statements():
    module = Module(PIPELINE)
    with pytest.raises(TypeError):
        module.fix().remove(module.node("SIZES"))


def test_tabs_and_crlf_are_kept_in_moved_and_inserted_code():
    text = "import os\r\n\r\ndef run():\r\n\tif os.sep:\r\n\t\tprint(1)\r\n\tprint(2)\r\n"

    def edit(module, fix):
        fix.move([module.statement("print(2)")], after=module.statement("print(1)"))
        fix.insert_before(module.statement("if os.sep"), [fix.statement("if True:\n    pass\n")])

    assert fixed_text(text, edit) == (
        "import os\r\n\r\ndef run():\r\n\tif True:\r\n\t\tpass\r\n\tif os.sep:\r\n\t\tprint(1)\r\n\t\tprint(2)\r\n")


def test_a_form_feed_in_the_indentation_leaves_it_when_a_block_is_nested():
    # libcst keeps the form feed starting a block's first line in the block's indentation;
    # Python counts columns afresh after it, so nested under a new block it would put the
    # block's lines level with the new header.
    text = "import os\n\nif os.sep:\n\f    print(1)\n    print(2)\nelse:\n    pass\n"

    def guard(module, fix):
        fix.replace(module.statement("if os.sep"), lambda node: cst.If(
            test=cst.parse_expression("True"), body=cst.IndentedBlock([node.with_changes(leading_lines=())]),
            leading_lines=node.leading_lines))

    fixed = fixed_text(text, guard)
    compile(fixed, "paged.py", "exec")
    assert fixed == "import os\n\nif True:\n    if os.sep:\n        print(1)\n        print(2)\n    else:\n        pass\n"


# -- rounds ---------------------------------------------------------------------------------------

MANY_SITES = source('''
    import multiprocessing as mp


    def contexts():
        first = mp.get_context("fork")
        second = mp.get_context("forkserver")
        if first is not None:
            third = mp.get_context("fork")
        return first, second, third


    def main():
        mp.set_start_method("fork")
''')


def test_fixes_at_many_sites_of_one_function_apply_in_one_round():
    result = mpcheck.Checker().fix_text(MANY_SITES, "contexts.py")
    assert [d.code for d in result.fixed] == ["MP101"] * 4
    assert result.rounds == 1
    assert result.diagnostics == []
    assert result.fixed_text.count("get_all_start_methods()") == 4


def test_one_fix_with_many_sites_applies_in_one_round():
    module = Module(MANY_SITES)
    fix = module.fix()
    for nth in range(3):
        call = module.node("mp.get_context", cst.Attribute, nth)
        fix.replace(call, lambda node: node.with_changes(attr=cst.Name("get_spawn_context")))
    text, applied = module.apply([fix.build(Applicability.SAFE, "all")])
    assert len(applied) == 1 and text.count("mp.get_spawn_context(") == 3


def test_an_insertion_next_to_a_statement_another_fix_moves_waits():
    module = Module(PIPELINE)
    mover = module.fix()
    mover.move([module.statement("SIZES =")], after=module.statement("import os"))
    inserter = module.fix()
    inserter.insert_before(module.statement("SIZES ="), [inserter.statement("LIMIT = 3")])
    fixes = [mover.build(Applicability.SAFE, "move"), inserter.build(Applicability.SAFE, "insert")]
    assert module.apply(fixes)[1] == fixes[:1]


def test_an_edit_inside_a_statement_another_fix_removes_waits():
    module = Module(PIPELINE)
    remover = module.fix()
    remover.remove(module.statement("def resize"))
    editor = module.fix()
    editor.replace(module.node("SIZES", cst.Name, 1), lambda node: node.with_changes(value="LIMITS"))
    fixes = [remover.build(Applicability.SAFE, "remove"), editor.build(Applicability.SAFE, "edit")]
    assert module.apply(fixes)[1] == fixes[:1]


def test_a_fix_editing_inside_a_statement_another_fix_moves_shares_its_round():
    text = source('''
        import multiprocessing as mp


        def work(x):
            return x


        ctx = mp.get_context("forkserver")
        with ctx.Pool(2) as pool:
            print(pool.map(work, [1]))
    ''')
    result = mpcheck.Checker().fix_text(text, "work.py")
    assert (result.rounds, sorted(d.code for d in result.fixed)) == (1, ["MP101", "MP201"])
    assert result.fixed_text.endswith(source('''
        if __name__ == "__main__":
            ctx = mp.get_context(
                "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            )
            with ctx.Pool(2) as pool:
                print(pool.map(work, [1]))
    '''))


def test_the_hoisting_codemods_shape_in_one_fix():
    """MP401's shape: the nested function moves to module level with its captured variable
    as a first parameter, and the call site binds it with functools.partial."""
    text = source('''
        import multiprocessing


        def main(scale):
            def work(n):
                return n * scale

            with multiprocessing.Pool() as pool:
                print(pool.map(work, range(3)))
    ''')

    def hoist(module, fix):
        nested, outer = module.statement("def work"), module.statement("def main")
        partial = fix.need_name("functools", "partial", before=outer)
        fix.replace(nested, lambda node: node.with_changes(
            params=node.params.with_changes(params=[cst.Param(cst.Name("scale")), *node.params.params])))
        fix.move([nested], before=outer)
        fix.replace(module.node("work", cst.Name, 1), fix.expression(f"{partial}(work, scale)"))

    assert fixed_text(text, hoist) == source('''
        import multiprocessing
        from functools import partial


        def work(scale, n):
            return n * scale


        def main(scale):
            with multiprocessing.Pool() as pool:
                print(pool.map(partial(work, scale), range(3)))
    ''')
