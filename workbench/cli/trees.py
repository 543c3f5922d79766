"""`workbench tree ...`: list, validate, import and run troubleshooting trees."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import json_option, with_app
from workbench.core.errors import BadInput
from workbench.core.files import read_text_file
from workbench.core.labels import plural
from workbench.core.yaml_loader import YamlError, located, safe_load
from workbench.remote.recipes import RecipeLibrary
from workbench.resources import RESOURCES
from workbench.services.recipes import library_for
from workbench.trees.model import NodeType, Problem
from workbench.trees.recipes import catalog_of
from workbench.trees.runner import CheckExecutor, CheckResult, Run
from workbench.trees.service import RunHandle, TreeService

PATHS = click.Path(exists=True, dir_okay=False, path_type=Path)


def _service(app: AppContext, library: RecipeLibrary | None = None) -> TreeService:
    # Trees may name the cache's recipes as well as the shipped ones.
    recipes = library or library_for(app.store)
    return TreeService(app.tickets, catalog_of(recipes), RESOURCES / "trees")


def _report(problems: list[Problem], files: int, as_json: bool) -> int:
    counts = Counter(p.severity for p in problems)
    if as_json:
        render.emit_json(
            {
                "files": files,
                "errors": counts["error"],
                "warnings": counts["warning"],
                "problems": [asdict(p) for p in problems],
            }
        )
    else:
        for problem in problems:
            render.say(str(problem))
        errors, warnings = plural(counts["error"], "error"), plural(counts["warning"], "warning")
        render.say(f"{plural(files, 'file')}: {errors}, {warnings}")
    return 1 if counts["error"] else 0


@click.group()
def tree() -> None:
    """Guided troubleshooting trees (format: resources/trees/README.md)."""


@tree.command("list")
@json_option
@with_app
def list_trees(app: AppContext, as_json: bool) -> None:
    """The trees in the cache and in the shipped library."""
    infos = _service(app).infos()
    if as_json:
        render.emit_json({"trees": [asdict(i) for i in infos]})
        return
    render.print_table(
        [[i.id, str(i.version), i.category, i.origin, i.title] for i in infos],
        ["ID", "VERSION", "CATEGORY", "FROM", "TITLE"],
    )


@tree.command()
@click.argument("paths", nargs=-1, required=True, type=PATHS)
@json_option
@with_app
def validate(app: AppContext, paths: tuple[Path, ...], as_json: bool) -> int:
    """Print every problem as FILE:LINE:COL: error|warning: MESSAGE; exit 1 on any error."""
    _trees, problems = _service(app).validate(paths)
    return _report(problems, len(paths), as_json)


@tree.command("import")
@click.argument("paths", nargs=-1, required=True, type=PATHS)
@json_option
@with_app
def import_trees(app: AppContext, paths: tuple[Path, ...], as_json: bool) -> None:
    """Validate trees and store them in the cache (all or none); they sync from there."""
    service = _service(app)
    _trees, problems = service.validate(paths)
    if any(p.severity == "error" for p in problems):
        for problem in problems:
            render.say(str(problem))
        errors = sum(p.severity == "error" for p in problems)
        raise BadInput(f"nothing imported: {plural(errors, 'error')} in the trees, listed above")
    done = service.import_files(paths)
    if as_json:
        render.emit_json(
            {
                "trees": [{"id": t.id, "version": t.version, "result": r} for t, r in done],
                "warnings": [str(p) for p in problems],
            }
        )
        return
    for problem in problems:
        render.say(str(problem))
    for tree_, result in done:
        render.say(f"{tree_.id} v{tree_.version}: {result}")


def _load_answers(path: Path) -> dict[str, Any]:
    try:
        data = safe_load(read_text_file(path, "the answers file"))
    except YamlError as exc:
        raise BadInput(located(exc, str(path))) from None
    if not isinstance(data, dict):
        raise BadInput(f"the answers file {path} must map node ids to answers")
    return {str(k): v for k, v in data.items()}


def _check_by_hand(run: Run, value: Any) -> None:
    """A check's outcome from the answers file: {exit_code, stdout, stderr} or a branch."""
    if isinstance(value, dict) and "exit_code" in value:
        code = str(value["exit_code"]).strip()
        # An exit status is 32 bits, signed or not; int() would also take '١' and '1_0'.
        if (
            not re.fullmatch(r"[+-]?[0-9]{1,10}", code, re.ASCII)
            or isinstance(value["exit_code"], bool)
            or not -(2**31) <= int(code) < 2**32
        ):
            raise BadInput(
                f"exit_code for {run.node.id!r} must be a whole number of 32 bits, not {code!r}"
            )
        run.enter_result(
            CheckResult(int(code), str(value.get("stdout", "")), str(value.get("stderr", "")))
        )
    elif isinstance(value, dict) and "branch" in value:
        run.pick_branch(str(value["branch"]))
    elif isinstance(value, str):
        run.pick_branch(value)
    else:
        raise BadInput(
            f"the answer for check {run.node.id!r} must be {{exit_code, stdout, stderr}}, "
            "{branch: NODE} or a node name"
        )


def _walk(run: Run, answers: dict[str, Any], executor: CheckExecutor | None = None) -> None:
    """Apply answers until a terminal or a node the file does not answer (any more).

    With an executor, checks run for real first; the answers file decides only those whose
    host could not be reached.
    """
    visits: Counter[str] = Counter()
    tried_at = -1  # one real attempt per step (a resumed run's failed check is tried again)
    while not run.finished:
        node = run.node
        if executor is not None and node.type is NodeType.CHECK and tried_at != len(run.steps):
            tried_at = len(run.steps)
            if run.run_check(executor) is not None:
                continue
        if node.id not in answers:
            return
        given = answers[node.id]
        # A list answers successive visits of a node (a tree may loop back to it).
        values = given if isinstance(given, list) else [given]
        if visits[node.id] >= len(values):
            return
        value = values[visits[node.id]]
        visits[node.id] += 1
        if node.type is NodeType.QUESTION:
            run.answer(str(value))
        elif node.type is NodeType.INPUT:
            run.enter(None if value is None else str(value))
        elif node.type is NodeType.CHECK:
            _check_by_hand(run, value)
        else:
            run.acknowledge(None)


def _run_json(handle: RunHandle, status: str) -> dict[str, Any]:
    run = handle.run
    proposal = run.proposal
    return {
        "run_id": handle.id,
        "tree": run.tree.id,
        "tree_version": run.tree.version,
        "ticket": handle.ticket_ref,
        "status": status,
        "resumed": handle.resumed,
        "node": run.node.id,
        "host": run.target_host,
        "not_run": run.pending.reason if run.pending else None,
        "steps": [{**asdict(s), "at": s.at.isoformat()} for s in run.steps],
        "proposal": (
            None
            if proposal is None
            else {
                "kind": proposal.kind.value,
                "text": proposal.text,
                "tier": proposal.tier,
                "facts": list(proposal.facts),
            }
        ),
        "minutes": run.minutes(),
        "transcript": run.transcript(),
    }


@contextmanager
def _remote_checks(
    app: AppContext, handle: RunHandle, library: RecipeLibrary, echo: bool
) -> Iterator[CheckExecutor]:
    from workbench.remote.jobs import JobRunner  # noqa: PLC0415  (paramiko only for --remote)
    from workbench.services.profiles import ProfileService  # noqa: PLC0415
    from workbench.services.remote import RemoteService  # noqa: PLC0415
    from workbench.trees.remote_checks import RemoteCheckExecutor, profiles_connect  # noqa: PLC0415

    jobs = JobRunner(app.data_dir, max_workers=1)
    connect = profiles_connect(ProfileService(app.store))
    executor = RemoteCheckExecutor(
        jobs, library, connect, handle.technician, handle.ticket_ref,
        on_line=(lambda _stream, line: render.say(f"  | {line}")) if echo else None,
    )  # fmt: skip
    try:
        yield executor
    finally:
        jobs.shutdown()
        RemoteService(app.tickets).audit(executor.finished)


@tree.command("run")
@click.argument("tree_id")
@click.option("--ticket", "ticket_ref", required=True, help="Ticket number or reference.")
@click.option(
    "--answers",
    type=PATHS,
    required=True,
    help="YAML: node id → answer (a list for a node visited more than once).",
)
@click.option(
    "--host", metavar="HOST", help="The machine the checks run on, for a ticket with no asset."
)
@click.option("--restart", is_flag=True, help="Start over, dropping this ticket's open run.")
@click.option("--propose-only", is_flag=True, help="Stop at the proposal; do not apply it.")
@click.option(
    "--remote",
    is_flag=True,
    help="Run checks on the ticket's asset through its credential profile (see `profile`).",
)
@json_option
@with_app
def run_tree(
    app: AppContext,
    tree_id: str,
    ticket_ref: str,
    answers: Path,
    host: str | None,
    restart: bool,
    propose_only: bool,
    remote: bool,
    as_json: bool,
) -> None:
    """Walk a tree for a ticket with scripted answers; resumes the ticket's open run.

    Without --remote, give each check's outcome in the answers file; with it, checks run on
    the machine and the file answers only those whose host could not be reached.
    """
    library = library_for(app.store)  # read once: the tree's catalog and its checks
    service = _service(app, library)
    given = _load_answers(answers)
    handle = service.start(tree_id, ticket_ref, restart=restart)
    if host is not None:
        handle.run.set_host(host)
    if remote:
        with _remote_checks(app, handle, library, echo=not as_json) as executor:
            _walk(handle.run, given, executor)
    else:
        # All answers apply or none: a refused one leaves the stored run where it was.
        _walk(handle.run, given)
    if handle.run.finished and not propose_only:
        service.accept(handle)
        status = "applied"
    else:
        service.save(handle)
        status = "proposed" if handle.run.finished else "paused"
    if as_json:
        render.emit_json(_run_json(handle, status))
        return
    render.say(handle.run.transcript())
    if status == "paused":
        for line in _paused(handle.run, remote):
            render.say(line)
    else:
        render.say(f"Run {handle.id}: {status} on {handle.ticket_ref}")


def _paused(run: Run, remote: bool) -> list[str]:
    """Where the run stopped and, at a check, why it did not run and how to answer it."""
    node = run.node
    lines = [f"Paused at {node.id!r} ({node.type.value}): {run.prompt}"]
    if node.type is not NodeType.CHECK:
        return lines
    if not run.target_host:
        lines.append("  not run: the ticket has no asset; name the machine with --host HOST")
    elif run.pending is not None:
        lines.append(f"  not run: {run.pending.reason}")
    elif not remote:
        lines.append(f"  not run on {run.target_host}: add --remote to run it there")
    lines.append(f"  or answer it in the answers file (`{node.id}: BRANCH`), a branch being:")
    lines.extend(
        f"    {b.next}: {b.title}" + (f" ({b.condition})" if b.label else "") for b in node.branches
    )
    return lines
