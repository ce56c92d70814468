"""The fix engine: how rules describe fixes and how the engine applies them.

A rule builds a fix against the module it saw:

    fix = context.fix_context.fix()                  # a FixBuilder
    mp = fix.need_module("multiprocessing", before=call)   # "mp", or adds the import
    fix.replace(argument, fix.expression(f'"fork" if "fork" in {mp}.get_all_start_methods() else "spawn"'))
    yield Violation(call, message, (fix.build(Applicability.SAFE, "Use fork where it exists"),))

`apply_fixes` applies every non-conflicting fix of a round in one pass (apply.py);
`fresh_name` picks a free identifier; `Style` is the file's quotes, indentation, newline
and line length; `text_edit` and `write_atomically` turn the result into an edit or a file.
"""

from .apply import apply_fixes
from .builder import FixBuilder, FixContext, FixEdit, Insert, Remove, Replace, Take
from .files import text_edit, write_atomically
from .imports import ImportRequest
from .lines import blank_run, split_leading_lines
from .style import Style, fresh_name, string_like

__all__ = [
    "FixBuilder", "FixContext", "FixEdit", "ImportRequest", "Insert", "Remove", "Replace", "Style", "Take",
    "apply_fixes", "blank_run", "fresh_name", "split_leading_lines", "string_like", "text_edit",
    "write_atomically",
]
