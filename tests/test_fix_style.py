"""Code a fix writes looks like the file around it: its quotes, indentation, newlines, and
lines wrapped at its limit the way black wraps them."""

from __future__ import annotations

import black
import libcst as cst
import pytest

import mpcheck
from mpcheck.findings import Applicability
from mpcheck.fixes.wrap import wrap_line

from .fixkit import Module, fixed_text, source


def portable(method: str, module: str = "multiprocessing") -> str:
    return f'"{method}" if "{method}" in {module}.get_all_start_methods() else "spawn"'


def use_fork_where_it_exists(module, fix):
    """MP101's shape: the start-method argument becomes a conditional expression."""
    argument = module.node('"fork"') if '"fork"' in module.text else module.node("'fork'")
    mp = fix.need_module("multiprocessing", before=argument)
    fix.replace(argument, fix.expression(portable("fork", mp)))


# -- quotes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("strings", "quote"), [
    ("NAME = 'render'", "'"),  # the file's majority
    ('NAME = "render"', '"'),  # a tie (docstrings do not count) is double
    ('A = "a"\nB = "b"', '"'),  # two to one
])
def test_generated_strings_take_the_files_quote(strings, quote):
    text = f'"""Workers."""\nimport multiprocessing as mp\n\n{strings}\nctx = mp.get_context(\'fork\')\n'
    expected = "ctx = mp.get_context('fork' if 'fork' in mp.get_all_start_methods() else 'spawn')\n"
    assert expected.replace("'", quote) in fixed_text(text, use_fork_where_it_exists)


def test_a_string_holding_the_quote_keeps_the_other_one():
    module = Module("A = 'x'\nB = 'y'\n")
    assert module.context.style.expression('f("it\'s", "plain")').args[0].value.value == '"it\'s"'
    assert module.context.style.string("plain").value == "'plain'"


# -- indentation and newlines -----------------------------------------------------------------------


def test_generated_blocks_use_the_files_tab_indentation():
    text = "import multiprocessing\n\n\ndef main():\n\tctx = multiprocessing.get_context('fork')\n"

    def guard(module, fix):
        statement = module.statement("ctx =")
        fix.insert_after(statement, [fix.statement("if ctx is None:\n    raise SystemExit(1)\n")])

    assert fixed_text(text, guard).endswith("\tctx = multiprocessing.get_context('fork')\n\tif ctx is None:\n"
                                             "\t\traise SystemExit(1)\n")


SCRIPT_WITH_CONTINUATIONS = source('''
    import multiprocessing


    def work(x):
        return x * 2


    total = work(1) + \\
        work(2)
    if total > 1 and \\
            total < 100:  # a comment \\ with a backslash
        pool = multiprocessing.Pool(4)
        print(pool.map(work, range(10)))
        pool.close()
        pool.join()
''')


@pytest.mark.parametrize(("indent", "newline"), [("    ", "\n"), ("\t", "\n"), ("    ", "\r\n")])
def test_lines_a_backslash_continues_move_with_their_statement(indent, newline):
    """MP201's guard moves the script's statements one block deeper: the continuation lines
    keep their place relative to their statement (left as they were, they would sit at the
    statement's own indentation: pycodestyle's E122, and E125 for the `if`)."""
    text = SCRIPT_WITH_CONTINUATIONS.replace("    ", indent).replace("\n", newline)
    fixed = mpcheck.fix_source(text, "script.py").text
    assert fixed.endswith(source('''
        if __name__ == "__main__":
            total = work(1) + \\
                work(2)
            if total > 1 and \\
                    total < 100:  # a comment \\ with a backslash
                pool = multiprocessing.Pool(4)
    ''').replace("    ", indent).replace("\n", newline) + f"{indent * 2}print(pool.map(work, range(10))){newline}"
        f"{indent * 2}pool.close(){newline}{indent * 2}pool.join(){newline}")
    assert mpcheck.fix_source(fixed, "script.py").text == fixed


def test_blank_lines_between_the_branches_of_a_moved_statement_stay_empty():
    """pytorch/examples' dcgan: an `if`/`elif`/`else` with blank lines between its branches
    goes under MP201's guard; libcst would write the block's indentation on those lines
    (pycodestyle's W293). A blank line inside a function that is not moved keeps its
    spaces."""
    text = source('''
        import multiprocessing
        import sys


        def square(n):
            value = n * n
            return value


        if sys.argv[-1] == "a":
            items = [1]

        elif sys.argv[-1] == "b":
            items = [2]

        else:
            items = [3]
        pool = multiprocessing.Pool(2)
        print(pool.map(square, items))
        pool.close()
    ''').replace("n * n\n", "n * n\n    \n")
    fixed = mpcheck.fix_source(text, "script.py").text
    assert "    value = n * n\n    \n    return value\n" in fixed
    assert fixed.endswith(source('''
        if __name__ == "__main__":
            if sys.argv[-1] == "a":
                items = [1]

            elif sys.argv[-1] == "b":
                items = [2]

            else:
                items = [3]
            pool = multiprocessing.Pool(2)
            print(pool.map(square, items))
            pool.close()
    '''))


def test_crlf_file_gets_crlf_in_added_imports_and_wrapped_lines():
    text = ('import sys\r\n\r\nCONTEXT_FOR_THE_RENDER_WORKERS_OF_THIS_APPLICATION = '
            'multiprocessing_context("fork")\r\n')

    def fix_it(module, fix):
        mp = fix.need_module("multiprocessing", before=module.node('"fork"'))
        fix.replace(module.node('multiprocessing_context("fork")'),
                    fix.expression(f"{mp}.get_context({portable('fork', mp)})"))

    fixed = fixed_text(text, fix_it)
    assert fixed == (
        "import sys\r\nimport multiprocessing\r\n\r\nCONTEXT_FOR_THE_RENDER_WORKERS_OF_THIS_APPLICATION = "
        "multiprocessing.get_context(\r\n"
        '    "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"\r\n'
        ")\r\n")
    assert "\n" not in fixed.replace("\r\n", "")


# -- wrapping ----------------------------------------------------------------------------------------

LONG = source('''
    import multiprocessing


    def main():
        multiprocessing.set_start_method("fork")
''')


def test_a_generated_line_over_88_columns_is_wrapped_like_black():
    assert fixed_text(LONG, use_fork_where_it_exists).endswith(source('''
        def main():
            multiprocessing.set_start_method(
                "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            )
    '''))


def test_a_file_with_longer_lines_keeps_its_own_limit():
    text = LONG + "\n\n" + "# " + "x" * 118 + "\n"  # a 120-column line
    assert '    multiprocessing.set_start_method("fork" if "fork" in multiprocessing.get_all_start_methods() ' \
        'else "spawn")\n' in fixed_text(text, use_fork_where_it_exists)


def test_fixing_twice_changes_nothing_the_second_time():
    text = LONG.replace("def main():", "def main():\n    multiprocessing.get_context('forkserver')")
    once = mpcheck.fix_source(text, "main.py").text
    assert "get_all_start_methods()\n" in once  # wrapped
    assert mpcheck.fix_source(once, "main.py").text == once


# Expressions of the shapes fixes write, each placed in a statement that is too long.
SHAPES = [
    'X = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn").Process',
    'set_start_method(method="forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")',
    'ctx = tmp.get_context("fork" if "fork" in tmp.get_all_start_methods() else "spawn")  # a comment after the call',
    'ForkOrSpawnContext = type(mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn"))',
    'return multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")',
    'method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn_method_long"',
    'results = pool.map(functools.partial(render_frame, settings=settings, output_directory=output_directory), frames)',
    'worker = multiprocessing.Process(target=functools.partial(_render, scale, offset), args=(frame_number, output_path))',
    'value = some_object.attribute_one.attribute_two.method_call(argument_one, argument_two, argument_three_long)',
    'pool.starmap(process_one_item_with_a_long_name, [(item, configuration) for item in items_to_process if item])',
    'executor = concurrent.futures.ProcessPoolExecutor(max_workers=min(61, os.cpu_count() or 1), mp_context=ctx)',
    'roots = Parallel(n_jobs=2, backend="multiprocessing")(delayed(sqrt)(i) for i in range(4))',
    'jobs = [mp.Process(target=restock, args=(inventory, lock, item, 3)) for item in ("bolts", "nuts", "washers")]',
    'handles = {name: context.Process(target=serve, args=(name, queue), daemon=True) for name in configured_names}',
    'results = [future.result() for future in concurrent.futures.as_completed(futures) if not future.cancelled()]',
    'process = multiprocessing.get_context("spawn").Process(target=functools.partial(render, scale=scale), args=(frame,))',
    # and what surrounds them in user code the fix touches
    'pool = multiprocessing.Pool(processes=max(1, -offset + os.cpu_count()), initializer=setup, initargs=(config, logger))',
    'data = {"first": compute(alpha, beta), "second": compute(gamma, delta), "third": compute(epsilon, zeta)}',
    'values = table[first_index_value_long][second_index_value_long][third_index_value_long][fourth_index_long]',
    'callback = lambda result, error=None, retries=3: handle_result(result, error=error, retries=retries, log=log)',
    'ok = first_condition_value and second_condition_value or third_condition_value and not fourth_condition_value',
    'x = some.function(*positional_arguments, **keyword_arguments_dictionary, extra_flag=True, another_flag=False)',
    'message = "first part of the message " "second part of the message " "third part of the message here"',
    'assert result_value is not None and result_value not in forbidden_values, "unexpected result value here"',
    'results = await asyncio.gather(*[loop.run_in_executor(executor, work, item) for item in items_long_name])',
    'total = first_value_name + second_value_name * third_value_name - fourth_value_name / fifth_value_name_x',
    'worker = ctx.Process(target=run, args=(queue,), kwargs={"timeout": timeout, "retries": retries}, daemon=True)',
    'print(f"rendered {frame_number} of {total_frames} in {elapsed:.2f} seconds using {worker_count} workers now")',
    'first, second = functools.partial(render_frame, settings), functools.partial(render_audio, settings_audio)',
    'x = yield from generator_function_name(argument_number_one, argument_number_two, argument_number_three)',
    'del cache_dictionary[first_key_value_long_name], cache_dictionary[second_key_value_long_name], other_x',
    'raise RuntimeError("the worker process exited unexpectedly with code %d" % process.exitcode) from error',
]


@pytest.mark.parametrize("limit", [79, 88, 100])
@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("line", SHAPES)
def test_wrapping_agrees_with_black(line, depth, limit):
    indent = "    " * depth
    ours = wrap_line(line, len(indent), "    ", limit)
    header = "".join("    " * level + "def f():\n" for level in range(depth))
    reference = black.format_str(header + indent + line + "\n",
                                 mode=black.Mode(line_length=limit, string_normalization=False,
                                                 target_versions={black.TargetVersion.PY310}))
    expected = "\n".join(text[len(indent):] for text in reference.splitlines()[depth:])
    assert (ours if ours is not None else line) == expected


def test_a_line_that_fits_or_cannot_be_split_is_left_alone():
    assert wrap_line("x = f(a)", 0, "    ", 88) is None
    assert wrap_line("x = " + "a" * 100, 0, "    ", 88) is None
    assert wrap_line("x = f(a); y = g(" + "b" * 100 + ")", 0, "    ", 88) is None


@pytest.mark.parametrize("comment", ["# noqa: E501", "# type: ignore[arg-type]", "# pragma: no cover"])
def test_a_line_whose_comment_acts_on_it_is_not_wrapped(comment):
    line = f"x = function_name(argument_number_one, argument_number_two, argument_number_three)  {comment}"
    assert wrap_line(line, 0, "    ", 88) is None
    assert wrap_line(line.replace(comment, "# why"), 0, "    ", 88) is not None


def test_wrapping_uses_the_files_indent_unit():
    assert wrap_line('set_start_method("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() '
                     'else "spawn")', 1, "\t", 88) == (
        'set_start_method(\n\t"forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"\n)')


def test_a_replaced_module_has_its_long_lines_wrapped_too():
    module = Module(LONG)
    fix = module.fix()
    fix.replace(module.tree, cst.parse_module(LONG.replace('"fork"', portable("fork"))))
    text, _ = module.apply([fix.build(Applicability.SAFE, "whole module")])
    assert "    multiprocessing.set_start_method(\n        \"fork\" if" in text
