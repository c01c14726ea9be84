"""Rebuild pytest node ids from JUnit ``classname`` / ``name`` / ``file`` attributes.

pytest writes ``classname`` as the node id's path with ``/`` turned into ``.`` and ``.py`` dropped,
followed by the class chain: ``tests/e2e/test_x.py::TestX::test_y`` becomes
``classname="tests.e2e.test_x.TestX" name="test_y"``. Turning it back needs to know where the
module path ends and the classes begin:

1. With a ``file`` attribute (``junit_family=xunit1``) the module path is known exactly.
2. Without it, the trailing run of parts that start with an uppercase letter are classes (PEP 8
   class names, pytest's default ``python_classes = Test*``); the rest is the module path. A module
   file whose name starts uppercase (``TestWs.py``) is read as a class: give ``file`` to be exact.
3. A classname that is no dotted path at all (spaces, slashes: other runners' suite titles) is
   kept as written: ``classname::name``.
"""

from __future__ import annotations

import re

_PY_SUFFIX = re.compile(r"\.py$")
_DOTTED = re.compile(r"^[\w-]+(\.[\w-]+)*$")


def _classes_after_module(classname: str, module_dotted: str) -> list[str] | None:
    """The class chain after ``module_dotted`` in ``classname``, or None if it is not there."""
    if classname == module_dotted:
        return []
    if classname.startswith(module_dotted + "."):
        return classname[len(module_dotted) + 1 :].split(".")
    # A --junit-prefix or another rootdir puts parts before the module path; match on the end.
    marker = "." + module_dotted.rsplit(".", 1)[-1] + "."
    if marker in "." + classname + ".":
        tail = ("." + classname + ".").split(marker, 1)[1].strip(".")
        return tail.split(".") if tail else []
    return None


def _split_by_case(parts: list[str]) -> tuple[list[str], list[str]]:
    """Split dotted parts into (module parts, class parts) by the uppercase-class convention."""
    k = len(parts)
    while k > 1 and parts[k - 1][:1].isupper():
        k -= 1
    return parts[:k], parts[k:]


def node_id(classname: str | None, name: str, file: str | None = None) -> str:
    """The pytest node id of one JUnit testcase.

    Args:
        classname: the ``classname`` attribute (dotted module path plus classes); may be empty.
        name: the ``name`` attribute (function name, parameters in brackets kept as they are).
        file: the ``file`` attribute when the report has one (``junit_family=xunit1``).

    Returns:
        ``path/to/test_x.py::Class::test_y``, or the best reading of non-pytest names.
    """
    classname = (classname or "").strip()
    if file:
        path = file.replace("\\", "/")
        module_dotted = _PY_SUFFIX.sub("", path).replace("/", ".").lstrip(".")
        classes = _classes_after_module(classname, module_dotted) if classname else []
        if classes is not None:
            return "::".join([path, *classes, name])
    if not classname:
        # A collection error: pytest writes the module's dotted path as the name, no classname.
        if "::" not in name and "/" not in name and "." in name and "[" not in name:
            return name.replace(".", "/") + ".py"
        return name
    if classname == "pytest" and name == "internal":
        return "pytest::internal"
    if not _DOTTED.match(classname):
        # Not a dotted module path (jest suite titles, Go package paths): keep it as written.
        return f"{classname}::{name}"
    module, classes = _split_by_case(classname.split("."))
    return "::".join(["/".join(module) + ".py", *classes, name])
