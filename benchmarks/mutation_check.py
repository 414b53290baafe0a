"""Mutation check: do a module's tests notice small changes to its arithmetic?

A small, dependency-free stand-in for mutmut (whose 3.x release needs libcst and copies the
whole tree per run). Each *mutant* is the module with ONE change made through its syntax
tree; the module's own test file(s) then run (``pytest -x -q``) with the mutated copy first
on ``PYTHONPATH``. A mutant is *killed* when the tests fail (or time out), *survived* when
they pass.

Operators (one site at a time)
------------------------------
- arithmetic ``+ - * / // **`` (and augmented assignment): ``+``<->``-``, ``*``<->``/``,
  ``//`` -> ``/``, ``**`` -> ``*``
- comparisons: ``<``<->``<=``, ``>``<->``>=``, ``==``<->``!=``, ``in``<->``not in``,
  ``is``<->``is not``
- ``and``<->``or``; ``not x`` -> ``x``; ``-x`` -> ``x``
- numbers: an integer n -> n + 1, a float x -> x + 1 (0 -> 1), ``True``<->``False``

Not mutated: strings (docstrings, messages, f-strings), annotations, the arguments of
``raise`` (the message), and everything outside the functions named with ``--functions``
(module-level assignments are included with ``--module-constants``).

Usage
-----
::

    PYTHONPATH=src python benchmarks/mutation_check.py src/liprobe/counting.py \\
        tests/test_counting.py --functions _delta,interval --jobs 2 \\
        --pytest-args "-m 'not slow'" --confirm-slow --json counting.json

``--doctest`` adds the mutated module's own docstring examples to the tests (as
``make test`` runs them). ``--confirm-slow`` re-runs every survivor with the full test file
(slow tests included), so that the cheap pass can skip the slow ones.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Div, ast.Pow: ast.Mult}
CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
          ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
          ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
          ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
          ast.Eq: "==", ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is",
          ast.IsNot: "is not", ast.And: "and", ast.Or: "or"}


def _excluded(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, f-strings, raise arguments."""
    out: set[int] = set()

    def drop(node):
        if node is not None:
            out.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            drop(node.returns)
            for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                drop(a.annotation)
        elif isinstance(node, ast.AnnAssign):
            drop(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            drop(node)
        elif isinstance(node, ast.Raise):
            drop(node.exc)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            drop(node)
    return out


def _scope_nodes(tree: ast.Module, functions: set[str] | None, constants: bool):
    """Nodes that may be mutated, in a fixed order."""
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                functions is None or node.name in functions):
            roots.append(node)
    if constants:
        roots += [n for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))]
    seen, nodes = set(), []
    for root in roots:
        for n in ast.walk(root):
            if id(n) not in seen:
                seen.add(id(n))
                nodes.append(n)
    return nodes


def _sites(node: ast.AST):
    """(description, apply) for every mutation of this node."""
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOPS:
        new = BINOPS[type(node.op)]
        yield (f"{SYMBOL[type(node.op)]} -> {SYMBOL[new]}",
               lambda n=node, new=new: setattr(n, "op", new()))
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in CMPOPS:
                new = CMPOPS[type(op)]

                def apply(n=node, i=i, new=new):
                    n.ops[i] = new()
                yield f"{SYMBOL[type(op)]} -> {SYMBOL[new]}", apply
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield (f"{SYMBOL[type(node.op)]} -> {SYMBOL[new]}",
               lambda n=node, new=new: setattr(n, "op", new()))
    elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
        v = node.value
        if isinstance(v, bool):
            yield f"{v} -> {not v}", lambda n=node: setattr(n, "value", not n.value)
        elif isinstance(v, int):
            yield f"{v} -> {v + 1}", lambda n=node: setattr(n, "value", n.value + 1)
        elif isinstance(v, float):
            yield f"{v!r} -> {v + 1.0!r}", lambda n=node: setattr(n, "value", n.value + 1.0)


def _unary_sites(tree: ast.Module, scope_ids: set[int], excluded: set[int]):
    """``not x`` -> ``x`` and ``-x`` -> ``x``: replace the UnaryOp in its parent."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            items = value if isinstance(value, list) else [value]
            for idx, child in enumerate(items):
                if (isinstance(child, ast.UnaryOp) and isinstance(child.op, (ast.Not, ast.USub))
                        and id(child) in scope_ids and id(child) not in excluded):
                    if (isinstance(child.op, ast.USub) and isinstance(child.operand, ast.Constant)):
                        continue  # a negative literal: the number operator covers it
                    name = "not x -> x" if isinstance(child.op, ast.Not) else "-x -> x"

                    is_list = isinstance(value, list)

                    def apply(p=parent, f=field, i=idx, c=child, is_list=is_list):
                        if is_list:
                            getattr(p, f)[i] = c.operand
                        else:
                            setattr(p, f, c.operand)
                    yield child, name, apply


def mutants(source: str, functions: set[str] | None, constants: bool):
    """Yield (index, line, description, mutated source); index is stable for a source."""
    def enumerate_sites(tree):
        excluded = _excluded(tree)
        nodes = [n for n in _scope_nodes(tree, functions, constants) if id(n) not in excluded]
        sites = [(n, d, a) for n in nodes for d, a in _sites(n)]
        sites += list(_unary_sites(tree, {id(n) for n in nodes}, excluded))
        return sites

    count = len(enumerate_sites(ast.parse(source)))
    for i in range(count):
        tree = ast.parse(source)
        node, desc, apply = enumerate_sites(tree)[i]
        line = getattr(node, "lineno", 0)
        apply()
        yield i, line, desc, ast.unparse(ast.fix_missing_locations(tree))


def _run(cmd, env, cwd, timeout):
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
        return proc.returncode, time.perf_counter() - t0, proc.stdout[-2000:]
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0, ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("module", type=Path, help="path of the module under src/")
    ap.add_argument("tests", nargs="+", help="test files to run against every mutant")
    ap.add_argument("--src", type=Path, default=Path("src"))
    ap.add_argument("--functions", default="", help="comma-separated function names")
    ap.add_argument("--module-constants", action="store_true")
    ap.add_argument("--pytest-args", default="")
    ap.add_argument("--doctest", action="store_true")
    ap.add_argument("--confirm-slow", action="store_true")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--survivors-of", type=Path,
                    help="a previous --json: re-run only its survivors (tests were added, "
                         "the module is unchanged, so its killed mutants stay killed)")
    args = ap.parse_args(argv)

    root = Path.cwd()
    source = args.module.read_text()
    rel = args.module.resolve().relative_to(args.src.resolve())
    functions = set(filter(None, args.functions.split(","))) or None
    todo = list(mutants(source, functions, args.module_constants))
    previous = None
    if args.survivors_of:
        previous = json.loads(args.survivors_of.read_text())
        if previous["mutants"] != len(todo):
            print("the module changed since that run: run every mutant again")
            return 1
        again = {r["index"] for r in previous["results"] if r["status"] == "survived"}
        todo = [t for t in todo if t[0] in again]
    if args.list:
        for i, line, desc, _ in todo:
            print(f"{i:4d} L{line:<4d} {desc}")
        print(f"{len(todo)} mutants")
        return 0

    work = Path(tempfile.mkdtemp(prefix="liprobe-mut-"))
    slots = []
    for j in range(max(1, args.jobs)):
        dst = work / f"job{j}"
        shutil.copytree(args.src, dst, ignore=shutil.ignore_patterns("*.egg-info"))
        for pyc in (dst / rel).parent.glob(f"__pycache__/{rel.stem}.*"):
            pyc.unlink()
        slots.append(dst)

    def command(slot: Path, extra: str):
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               *args.tests, *shlex.split(extra)]
        if args.doctest:
            cmd.append(str(slot / rel))
        env = dict(os.environ, PYTHONPATH=str(slot), PYTHONDONTWRITEBYTECODE="1")
        return cmd, env

    # baseline: the unmutated (unparsed) module must pass
    (slots[0] / rel).write_text(ast.unparse(ast.parse(source)))
    cmd, env = command(slots[0], args.pytest_args)
    rc, base_s, out = _run(cmd, env, root, None)
    if rc != 0:
        print(out)
        print("the tests fail on the unmutated module; nothing to measure")
        return 1
    timeout = 3 * base_s + 15
    print(f"{args.module}: {len(todo)} mutants; baseline {base_s:.1f} s", flush=True)

    free = list(range(len(slots)))
    import threading
    lock = threading.Lock()

    def one(item, extra=args.pytest_args):
        i, line, desc, text = item
        with lock:
            j = free.pop()
        try:
            (slots[j] / rel).write_text(text)
            cmd, env = command(slots[j], extra)
            rc, secs, _ = _run(cmd, env, root, timeout if extra == args.pytest_args else None)
        finally:
            with lock:
                free.append(j)
        status = "survived" if rc == 0 else ("timeout" if rc == "timeout" else "killed")
        print(f"  {i:4d} L{line:<4d} {desc:<18s} {status} ({secs:.1f} s)", flush=True)
        return {"index": i, "line": line, "mutation": desc, "status": status}

    with ThreadPoolExecutor(len(slots)) as pool:
        results = list(pool.map(one, todo))
    if args.confirm_slow:
        survivors = [(i, line, desc, text) for (i, line, desc, text), r in zip(todo, results)
                     if r["status"] == "survived"]
        with ThreadPoolExecutor(len(slots)) as pool:
            again = {r["index"]: r for r in pool.map(lambda it: one(it, ""), survivors)}
        for r in results:
            if r["index"] in again and again[r["index"]]["status"] != "survived":
                r["status"] = "killed (slow tests)"
    shutil.rmtree(work, ignore_errors=True)
    if previous is not None:  # the earlier pass's killed mutants, then these re-runs
        by_index = {r["index"]: r for r in previous["results"]}
        by_index.update({r["index"]: r for r in results})
        results = [by_index[i] for i in sorted(by_index)]
    survived = [r for r in results if r["status"] == "survived"]
    killed = len(results) - len(survived)
    score = killed / len(results) if results else float("nan")
    print(f"{args.module}: {killed}/{len(results)} killed ({100 * score:.0f} %)")
    for r in survived:
        print(f"  survived: L{r['line']} {r['mutation']}")
    if args.json:
        args.json.write_text(json.dumps({"module": str(args.module), "tests": args.tests,
                                         "functions": sorted(functions or []),
                                         "mutants": len(results), "killed": killed,
                                         "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
