"""The fix engine: how rules describe fixes and how the engine applies them.

A rule builds each fix against the module it saw, with a `FixBuilder` from its context:

    fix = context.fix_context.fix()
    mp = fix.need_module("multiprocessing", before=call)    # "mp", or adds `import multiprocessing`
    fix.replace(argument, fix.expression(f'"fork" if "fork" in {mp}.get_all_start_methods() else "spawn"'))
    yield Violation(call, message, (fix.build(Applicability.SAFE, "Use fork where it exists"),))

and a codemod that moves code does it with statement edits, never by rebuilding a block:

    partial = fix.need_name("functools", "partial", before=outer_def)
    fix.move([nested_def], before=outer_def)                     # hoist, comments and all
    fix.replace(target, fix.expression(f"{partial}({{function}}, {{bound}})",
                                       function=cst.Name(name), bound=cst.Name(captured)))
    body = [fix.take(statement) for statement in loop_body]      # placeholders
    fix.replace(first, fix.statement("with {pool} as pool:\n    {body}\n", pool=..., body=...))

What the engine promises (apply.py): every non-conflicting edit of every fix is made in one
pass; a replacement given as a function receives its node with the inner edits made; a
statement moved keeps the edits made inside it; each import is added once, with the
module's imports; new code takes the file's quotes, indentation and newline, and a line
longer than the file's limit is wrapped as black would. The result of each round is
re-parsed and re-checked by the engine (engine.py `fix_text`) before the next.

`fresh_name` picks a free identifier; `blank_run` and `split_leading_lines` read the
comment lines above a statement; `text_edit` and `write_atomically` turn the result into
an edit or a file.
"""

from .apply import apply_fixes
from .builder import FixBuilder, FixContext, FixEdit, Insert, Remove, Replace, Take
from .files import NotWritten, text_edit, write_atomically
from .imports import ImportRequest
from .lines import blank_run, split_leading_lines
from .style import Style, fresh_name, string_like

__all__ = [
    "FixBuilder", "FixContext", "FixEdit", "ImportRequest", "Insert", "NotWritten", "Remove", "Replace", "Style", "Take",
    "apply_fixes", "blank_run", "fresh_name", "split_leading_lines", "string_like", "text_edit",
    "write_atomically",
]
