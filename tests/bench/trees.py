"""Benchmark: validate a generated 500-node tree (goal < 50 ms, DESIGN.md section 9).

Run with `.venv/bin/python -m tests.bench.trees`; prints the figures. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import yaml

from tests.bench.results import append_rows
from tests.support.recipes import catalog_from_dir
from workbench.resources import RESOURCES
from workbench.trees.loader import read_tree

GOAL_MS = 50.0


def generated_tree(size: int, seed: int = 1) -> str:
    """Questions, inputs, checks and actions with forward and back edges, then terminals."""
    rng = random.Random(seed)
    terminals = max(2, size // 20)
    inner = size - terminals
    nodes: dict[str, object] = {}

    def ahead(i: int) -> str:
        return f"n{rng.randint(i + 1, size - 1)}"

    for i in range(inner):
        kind = ("input", "question", "check", "action")[i % 4]
        if kind == "question":
            back = f"n{rng.randint(0, i)}"
            nodes[f"n{i}"] = {
                "type": kind,
                "text": f"Step {i} on {{{{ticket.asset.hostname}}}}?",
                "answers": [{"label": "Yes", "next": ahead(i)}, {"label": "No", "next": back}],
            }
        elif kind == "input":
            nodes[f"n{i}"] = {
                "type": kind,
                "text": f"Value {i}",
                "var": f"v{i}",
                "pattern": "^[A-Za-z0-9.-]+$",
                "next": ahead(i),
            }
        elif kind == "check":
            nodes[f"n{i}"] = {
                "type": kind,
                "text": f"Check {i}",
                "recipe": "windows.diagnostics",
                "host": "{{v0}}",  # n0, the start, sets it on every path
                "branches": [
                    {"when": {"exit_code": 0, "stdout_matches": "Error|Fail"}, "next": ahead(i)},
                    {"otherwise": True, "next": ahead(i)},
                ],
            }
        else:
            nodes[f"n{i}"] = {"type": kind, "text": f"Do {i}", "next": ahead(i)}
    for i in range(inner, size):
        nodes[f"n{i}"] = {"type": "resolve", "resolution": f"Fixed at step {i}"}
    document = {"id": "bench", "title": "Bench", "version": 1, "start": "n0", "nodes": nodes}
    return yaml.safe_dump(document, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    text = generated_tree(args.nodes)
    catalog = catalog_from_dir(RESOURCES / "recipes")
    tree, problems = read_tree(text, "bench.yaml", catalog)
    errors = [str(p) for p in problems if p.severity == "error"]
    if tree is None or len(tree.nodes) != args.nodes:
        raise SystemExit(f"the generated tree does not validate: {errors[:3]}")
    wall, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        read_tree(text, "bench.yaml", catalog)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    # CPU time as well: on a busy machine the wall clock also measures the neighbours.
    row = (
        f"| validate a generated {args.nodes}-node tree ({len(text.splitlines())} lines of YAML, "
        f"{args.repeat} runs) | wall median {statistics.median(wall):.1f} ms (min "
        f"{min(wall):.1f}, max {max(wall):.1f}); CPU median {statistics.median(cpu):.1f} ms | "
        f"< {GOAL_MS:.0f} ms | every check of `tree validate`, recipes from resources/ |"
    )
    print(row)
    append_rows([row])


if __name__ == "__main__":
    main()
