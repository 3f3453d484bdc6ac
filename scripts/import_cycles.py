"""List the import cycles among the modules of a package (by default ``posecoach``).

Every import statement counts: module level, inside functions (lazy imports) and under ``TYPE_CHECKING``, because
a cycle hidden by a lazy import is still a cycle in the design. The import graph comes from grimp (installed with
import-linter). A cycle is reported per strongly connected component of the graph: its modules and one shortest
cycle through them, each step with the line that imports.

    python scripts/import_cycles.py              # module-level cycles in posecoach; exit status 1 if any
    python scripts/import_cycles.py --depth 2    # cycles between posecoach.X subpackages (posecoach.analysis, ...)

``tests/unit/test_layers.py`` runs :func:`find_cycles` so that a new cycle fails the tests.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import deque
from dataclasses import dataclass

import grimp


@dataclass(frozen=True)
class Cycle:
    """A strongly connected component (``modules``) and one shortest cycle through it (``path``, first = last)."""

    modules: tuple[str, ...]
    path: tuple[str, ...]
    lines: tuple[str, ...]  # for each step of ``path``: "module:line: import text"

    def describe(self) -> str:
        head = f"{len(self.modules)} modules: " + ", ".join(self.modules)
        steps = "\n".join(f"    {line}" for line in self.lines)
        return f"{head}\n  cycle: {' -> '.join(self.path)}\n{steps}"


def _squash(module: str, depth: int | None) -> str:
    return module if depth is None else ".".join(module.split(".")[:depth])


def import_graph(package: str, depth: int | None = None) -> dict[str, set[str]]:
    """The edges importer -> imported within ``package``; with ``depth``, modules are merged to that many parts."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges: dict[str, set[str]] = {}
    for importer in graph.modules:
        a = _squash(importer, depth)
        edges.setdefault(a, set())
        for imported in graph.find_modules_directly_imported_by(importer):
            b = _squash(imported, depth)
            if a != b:
                edges[a].add(b)
                edges.setdefault(b, set())
    return edges


def _components(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), only those with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _shortest_cycle(edges: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest cycle within one component (breadth-first from each member back to itself), first = last."""
    inside = set(members)
    best: list[str] | None = None
    for start in members:
        parent: dict[str, str] = {}
        queue = deque([start])
        last = None
        while queue and last is None:
            node = queue.popleft()
            for child in sorted(edges[node] & inside):
                if child == start:
                    last = node
                    break
                if child not in parent and child != start:
                    parent[child] = node
                    queue.append(child)
        if last is None:
            continue
        path = [last]
        while path[-1] != start:
            path.append(parent[path[-1]])
        path = [*reversed(path), start]
        if best is None or len(path) < len(best):
            best = path
    assert best is not None
    return best


def _import_lines(graph: grimp.ImportGraph, importer: str, imported: str, depth: int | None) -> str:
    if depth is None:
        details = graph.get_import_details(importer=importer, imported=imported)
    else:
        details = []
        for a in graph.modules:
            if _squash(a, depth) != importer:
                continue
            for b in graph.find_modules_directly_imported_by(a):
                if _squash(b, depth) == imported:
                    details.extend(graph.get_import_details(importer=a, imported=b))
    if not details:
        return f"{importer} -> {imported}"
    first = details[0]
    more = f" (+{len(details) - 1} more)" if len(details) > 1 else ""
    return f"{first['importer']}:{first['line_number']}: {first['line_contents']}{more}"


def find_cycles(package: str = "posecoach", depth: int | None = None) -> list[Cycle]:
    """Every import cycle in ``package`` (one per strongly connected component), sorted by its modules."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = import_graph(package, depth)
    cycles = []
    for members in _components(edges):
        path = _shortest_cycle(edges, members)
        lines = tuple(_import_lines(graph, a, b, depth) for a, b in itertools.pairwise(path))
        cycles.append(Cycle(tuple(members), tuple(path), lines))
    return cycles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default="posecoach")
    parser.add_argument("--depth", type=int, default=None, help="merge modules to this many name parts")
    args = parser.parse_args(argv)
    cycles = find_cycles(args.package, args.depth)
    for number, cycle in enumerate(cycles, 1):
        print(f"[{number}] {cycle.describe()}")
    print(f"{len(cycles)} import cycle(s) in {args.package}" + (f" at depth {args.depth}" if args.depth else ""))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
