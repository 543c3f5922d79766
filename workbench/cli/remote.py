"""`workbench recipe ...` and `workbench remote ...`: recipes and remote runs over SSH."""

from __future__ import annotations

import getpass
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.cli.passwords import read_secret
from workbench.core import secrets
from workbench.core.display import visible
from workbench.core.errors import BadInput, NotFound, WorkbenchError
from workbench.core.files import read_text_file
from workbench.core.labels import plural
from workbench.remote.profiles import check_user, default_port, parse_target
from workbench.remote.recipes import (
    Param,
    ParamType,
    Protocol,
    Recipe,
    RecipeError,
    Target,
    read_recipes,
)
from workbench.services.recipes import (
    SERVICE_TARGETS,
    RecipeService,
    library_for,
    recipe_files,
    setting_hint,
)

if TYPE_CHECKING:
    from workbench.remote.jobs import JobRequest, JobResult
    from workbench.remote.ssh import SshTarget
    from workbench.remote.winrm import WinrmTarget
    from workbench.services.profiles import ProfileLogin

# paramiko (hostkeys, ssh, jobs) is imported inside the commands that need it: every other
# command of the CLI starts faster without it.

_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")


# -- recipes ---------------------------------------------------------------------------------


def _param_json(param: Param) -> dict[str, Any]:
    data = render.record_json(param)
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def _recipe_json(recipe: Recipe, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": recipe.id,
        "title": recipe.title,
        "protocol": recipe.protocol.value,
        "target": recipe.target.value,
        "shell": recipe.shell.value,
        "confirm": recipe.confirm,
        "timeout": recipe.timeout,
        "params": [_param_json(p) for p in recipe.params],
    }
    if full:
        data |= {
            "description": recipe.description,
            "exit_codes": {"ok": list(recipe.ok_codes), "reboot": list(recipe.reboot_codes)},
            "script": recipe.script,
            "expected_output": recipe.expected_output,
            "source": str(recipe.source),
        }
    return data


@click.group()
def recipe() -> None:
    """Remote-action recipes (resources/recipes/*.yaml and those imported or synced)."""


@recipe.command("list")
@json_option
@with_app
def recipe_list(app: AppContext, as_json: bool) -> None:
    """The recipes in the cache (imported/synced) and in the shipped library."""
    infos = RecipeService(app.store).infos()
    if as_json:
        render.emit_json({"recipes": [
            _recipe_json(i.recipe) | {"origin": i.origin} if i.recipe is not None
            else {"id": i.id, "title": i.title, "protocol": i.protocol, "origin": i.origin}
            for i in infos
        ]})  # fmt: skip
        return
    render.print_table(
        [
            [i.id, i.protocol, "yes" if r and r.confirm else "",
             ", ".join(p.name for p in r.params) if r else "", i.origin, i.title]
            for i in infos
            for r in [i.recipe]
        ],
        ["ID", "PROTOCOL", "CHANGES", "PARAMS", "FROM", "TITLE"],
    )  # fmt: skip


@recipe.command("show")
@click.argument("recipe_id")
@json_option
@with_app
def recipe_show(app: AppContext, recipe_id: str, as_json: bool) -> None:
    """A recipe's parameters, script and expected output."""
    found = library_for(app.store).get(recipe_id)
    if as_json:
        render.emit_json(_recipe_json(found, full=True))
        return
    render.say(f"{found.id}: {found.title}")
    if found.description:
        render.say(found.description.strip())
    render.say(
        f"runs on {found.target.label}; "
        f"protocol {found.protocol.value}, shell {found.shell.value}, timeout {found.timeout} s"
        f"{', asks for confirmation' if found.confirm else ''}; exit codes ok "
        f"{list(found.ok_codes)}, reboot {list(found.reboot_codes)}"
    )
    render.say("parameters:" if found.params else "parameters: none")
    for param in found.params:
        render.say(f"  {param.name}: {_describe(param)}")
    render.say("script:")
    render.say("".join(f"  {line}\n" for line in found.script.splitlines()), nl=False)
    if found.expected_output:
        render.say("expected output:")
        render.say("".join(f"  {line}\n" for line in found.expected_output.splitlines()), nl=False)


def _describe(param: Param) -> str:
    parts = [param.type.value]
    if param.pattern:
        parts.append(f"matching {param.pattern}")
    if param.choices:
        parts.append("one of " + "|".join(param.choices))
    if param.minimum is not None or param.maximum is not None:
        parts.append(f"{param.minimum if param.minimum is not None else ''}.."
                     f"{param.maximum if param.maximum is not None else ''}")  # fmt: skip
    parts.append("required" if param.required else f"default {param.default!r}"
                 if param.default is not None else "optional")  # fmt: skip
    if param.keyring:
        parts.append(f"keyring {param.keyring}")
    text = ", ".join(parts)
    return f"{text} - {param.description}" if param.description else text


@recipe.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def recipe_validate(paths: tuple[Path, ...]) -> None:
    """Check recipe files (or directories of them); every problem with file, line and column."""
    files = recipe_files(paths)
    loaded, problems = read_recipes(files)
    for found, _text in loaded:
        render.say(f"ok {found.source} ({found.id})")
    for problem in problems:
        render.say(problem)
    if problems:
        raise WorkbenchError(f"{plural(len(problems), 'problem')} in the recipes checked")
    if not files:
        raise BadInput("no recipe files found in the given paths")


@recipe.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@json_option
@with_app
def recipe_import(app: AppContext, paths: tuple[Path, ...], as_json: bool) -> None:
    """Check recipe files (or directories of them) and store them in the cache, all or none;
    they sync from there and win over a shipped recipe of the same id."""
    try:
        done = RecipeService(app.store).import_files(paths)
    except RecipeError as exc:
        for problem in exc.problems:
            render.say(problem)
        raise BadInput(
            f"nothing imported: {plural(len(exc.problems), 'problem')} in the recipes, listed above"
        ) from None
    if as_json:
        render.emit_json({"recipes": [{"id": r.id, "result": result} for r, result in done]})
        return
    for found, result in done:
        render.say(f"{found.id}: {result} ({found.source})")


# -- remote runs -------------------------------------------------------------------------------


def _values(found: Recipe, pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise BadInput(f"--param takes NAME=VALUE, not {pair!r}")
        param = found.param(name.strip())
        if param.type is ParamType.SECRET:
            raise BadInput(
                f"parameter {param.name!r} is a secret: it comes from the keyring or a prompt, "
                "never from the command line"
            )
        values[param.name] = param.check(value)
    return values


def _add_secrets(found: Recipe, values: dict[str, str]) -> None:
    for param in found.secret_params:
        secret = _secret(param)
        if secret is not None:
            values[param.name] = secret


def _secret(param: Param) -> str | None:
    if param.keyring:
        # No keyring at all (e.g. a headless session): asking is the documented fallback.
        stored = secrets.get_secret(
            param.keyring, param.name, f"read {param.name!r}", no_keyring_is_none=True
        )
        if stored is not None:
            return stored
    if not param.required:
        return None
    return read_secret(f"{param.name} (secret)", param.name)


def _confirm(found: Recipe, host: str, yes: bool) -> None:
    if not found.confirm or yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(f"recipe {found.id} changes the machine: confirm with --yes")
    # A prompt is printed like any other text: the recipe's title comes from its author.
    question = visible(f"Run {found.id} ({found.title}) on {host}?")
    click.confirm(question, abort=True, err=True)


def _stream(stream: str, line: str) -> None:
    render.say(line, err=stream == "stderr")


def _result_json(result: JobResult, recorded: bool) -> dict[str, Any]:
    data = render.record_json(result)
    data |= {
        "seconds": round(result.seconds, 3),
        "worklog": recorded,
        "log_path": str(result.log_path),
    }
    return data


def _parse_target(text: str, login: str, port: int, what: str) -> SshTarget:
    """``login`` and ``port`` where the text leaves them out."""
    from workbench.remote.ssh import SshTarget  # noqa: PLC0415

    parsed = parse_target(text, what)
    return SshTarget(parsed.host, parsed.user or login, parsed.port or port)


@click.group()
def remote() -> None:
    """Run recipes on machines over SSH; manage trusted host keys."""


def _shared_run_options(func: Any) -> Any:
    """The options `remote run` and `remote fanout` share: login, parameters, confirmation."""
    options = [
        click.option("--port", type=WholeNumber(1, 65535),
                     help="Default: 22 for SSH, 5986 for WinRM (5985 with --http)."),
        click.option("--protocol", type=click.Choice([p.value for p in Protocol]),
                     help="Transport (default: the recipe's)."),
        click.option("--profile", metavar="NAME",
                     help="Log in as this credential profile says (see `workbench profile`)."),
        click.option("--user", help="Login name (default: your local user name)."),
        click.option("--identity", type=click.Path(path_type=Path, dir_okay=False),
                     help="Private key file."),
        click.option("--agent", is_flag=True, help="Also try the keys of a running SSH agent."),
        click.option("--ask-password", is_flag=True, help="Prompt for an SSH password."),
        click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="A recipe parameter (repeatable). Secrets are prompted for."),
        click.option("--jump", metavar="[USER@]HOST[:PORT]",
                     help="Reach the host through this SSH host (same key/agent/password)."),
        click.option("--yes", is_flag=True, help="Confirm a recipe that changes the machine."),
        click.option("--winrm-transport", default="ntlm", show_default=True,
                     type=click.Choice(["ntlm", "kerberos", "credssp", "certificate", "basic"])),
        click.option("--http", is_flag=True, help="WinRM over plain HTTP (not with basic)."),
        click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                     help="WinRM: trust this CA (an internal CA) for the server certificate."),
        click.option("--client-cert", type=click.Path(path_type=Path, dir_okay=False),
                     help="WinRM certificate transport: client certificate (PEM)."),
        click.option("--client-key", type=click.Path(path_type=Path, dir_okay=False),
                     help="WinRM certificate transport: its private key (PEM)."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _prepare(
    app: AppContext,
    recipe_id: str,
    given: Sequence[str | None],
    options: dict[str, Any],
    ticket_ref: str | None = None,
    accept_host_key: str | None = None,
) -> list[JobRequest]:
    """Everything checked and asked for before any connection: one request per host."""
    from workbench.services.remote import RemoteService  # noqa: PLC0415

    found = library_for(app.store).get(recipe_id)
    hosts = _where_it_runs(app, found, given)
    if accept_host_key is not None and not _FINGERPRINT.match(accept_host_key):
        raise BadInput(f"--accept-host-key takes a fingerprint SHA256:<43 characters>, not "
                       f"{accept_host_key!r}")  # fmt: skip
    if accept_host_key is not None:  # as host keys are compared: without base64's padding
        accept_host_key = accept_host_key.rstrip("=")
    profile_login = _profile_login(app, options) if options["profile"] else None
    profile = profile_login.profile if profile_login else None
    # A profile picks the transport, as --protocol does; without either, the recipe does.
    protocol = profile.protocol if profile else (options["protocol"] or found.protocol)
    winrm = protocol == Protocol.WINRM
    ssh_only = accept_host_key or options["jump"] or options["identity"] or options["agent"]
    if winrm and ssh_only and profile is not None:  # it refused --jump and the others already
        raise BadInput(
            f"profile {profile.name!r} logs in over WinRM, which checks the server's TLS "
            "certificate instead of a host key: leave out --accept-host-key"
        )
    if winrm and ssh_only:
        raise BadInput(
            "--accept-host-key, --jump, --identity and --agent are for SSH; WinRM checks the "
            "server's TLS certificate (--ca-file) and logs in with a password or certificate"
        )
    service = RemoteService(app.tickets)
    technician = service.technician()
    if ticket_ref is not None:
        ticket_ref = service.ticket_for_job(ticket_ref).ref
    if profile_login is not None:
        return _profile_requests(found, hosts, options, profile_login, technician, ticket_ref,
                                 accept_host_key)  # fmt: skip
    login = check_user(options["user"], "--user") if options["user"] else getpass.getuser()
    port = options["port"] or default_port(protocol, https=not options["http"])
    targets = [_parse_target(h, login, port, "a host") for h in hosts]
    if winrm:
        for parsed in targets:  # refuse bad combinations before asking anything
            _winrm_target(parsed, options, "checked").check()
    values = _ask_values(found, hosts, options)
    if winrm:
        return _winrm_requests(found, values, targets, options, technician, ticket_ref)
    return _ssh_requests(found, values, targets, options, technician, ticket_ref, accept_host_key)


def _where_it_runs(app: AppContext, found: Recipe, given: Sequence[str | None]) -> list[str]:
    """The hosts to run on: as given, or the service host the recipe is for; a recipe for the
    directory host or the FOG server is refused on a user's machine (an asset with an owner)."""
    from workbench.services.recipes import ServiceHosts, where_it_runs  # noqa: PLC0415

    service_hosts = ServiceHosts(app.store).all()
    hosts = []
    for host in given:
        machine = None
        if host and found.target is not Target.ASSET:
            name = parse_target(host, "--host").host
            with app.store.read() as db:
                try:
                    asset = db.asset_by_key(name)
                except NotFound:
                    asset = None
            if asset is not None and asset.owner_id is not None:
                machine = f"{name} (asset {asset.tag})"
        hosts.append(where_it_runs(found, host, service_hosts, machine))
    return hosts


def _ask_values(found: Recipe, hosts: list[str], options: dict[str, Any]) -> dict[str, str]:
    """Plain values checked, then the confirmation, then secrets asked for, then all validated
    together: nothing is asked for a run that is refused anyway."""
    values = _values(found, options["params"])
    _confirm(found, ", ".join(hosts), options["yes"])
    _add_secrets(found, values)
    found.validate(values)
    return values


# What a credential profile decides; naming them too would leave two answers to one question.
_PROFILE_DECIDES = ("protocol", "user", "identity", "agent", "ask_password", "jump", "http",
                    "ca_file", "client_cert", "client_key")  # fmt: skip


def _profile_login(app: AppContext, options: dict[str, Any]) -> ProfileLogin:
    """The --profile named with its keyring secret, when no option that it decides is given as
    well. Read once for all hosts; a broken profile (not found, its secret missing) is refused
    before anything is asked."""
    from workbench.services.profiles import ProfileService  # noqa: PLC0415

    given = [f"--{name.replace('_', '-')}" for name in _PROFILE_DECIDES if options[name]]
    if given:
        raise BadInput(f"--profile says how to log in; leave out {', '.join(given)}")
    return ProfileService(app.store).login(options["profile"])


def _profile_requests(
    found: Recipe,
    hosts: list[str],
    options: dict[str, Any],
    login: ProfileLogin,
    technician: str,
    ticket_ref: str | None,
    accept_host_key: str | None,
) -> list[JobRequest]:
    targets = [parse_target(h, "a host", allow_user=False) for h in hosts]
    values = _ask_values(found, hosts, options)
    # HOST:PORT, else --port, else None: the profile's (or the protocol's) port.
    return [
        login.request(found, values, target.host, technician, ticket_ref, accept_host_key,
                      port=target.port or options["port"])
        for target in targets
    ]  # fmt: skip


def _ssh_requests(
    found: Recipe,
    values: dict[str, str],
    targets: list[SshTarget],
    options: dict[str, Any],
    technician: str,
    ticket_ref: str | None,
    accept_host_key: str | None,
) -> list[JobRequest]:
    from workbench.remote.jobs import JobRequest  # noqa: PLC0415
    from workbench.remote.ssh import SshAuth  # noqa: PLC0415

    login = targets[0].username
    jump = (
        _parse_target(options["jump"], login, default_port("ssh"), "--jump")
        if options["jump"]
        else None
    )
    password = read_secret("SSH password", "SSH password") if options["ask_password"] else None
    auth = SshAuth(identity=options["identity"], password=password, allow_agent=options["agent"])
    return [
        JobRequest(
            recipe=found,
            values=values,
            target=target,
            auth=auth,
            jump=(jump, auth) if jump else None,
            technician=technician,
            ticket_ref=ticket_ref,
            accept_host_key=accept_host_key,
        )
        for target in targets
    ]


def _winrm_target(parsed: SshTarget, options: dict[str, Any], password: str | None) -> WinrmTarget:
    from workbench.remote.winrm import WinrmTarget  # noqa: PLC0415

    return WinrmTarget(
        parsed.host, parsed.username, parsed.port,
        transport=options["winrm_transport"], https=not options["http"],
        ca_file=options["ca_file"], password=password,
        cert_pem=options["client_cert"], cert_key_pem=options["client_key"],
    )  # fmt: skip


def _winrm_requests(
    found: Recipe,
    values: dict[str, str],
    targets: list[SshTarget],
    options: dict[str, Any],
    technician: str,
    ticket_ref: str | None,
) -> list[JobRequest]:
    from workbench.remote.jobs import JobRequest  # noqa: PLC0415

    needs_password = options["winrm_transport"] != "certificate"
    password = read_secret("WinRM password", "WinRM password") if needs_password else None
    return [
        JobRequest(
            recipe=found,
            values=values,
            target=_winrm_target(parsed, options, password),
            auth=None,
            technician=technician,
            ticket_ref=ticket_ref,
        )
        for parsed in targets
    ]


def _outcome_text(result: JobResult) -> str:
    code = f", exit code {result.exit_code}" if result.exit_code is not None else ""
    return f"{result.outcome.label}{code} in {result.seconds:.1f} s - {result.message}"


@remote.command("run")
@click.argument("recipe_id", metavar="RECIPE")
@click.option("--host", help="Host name or address of the machine (default for a recipe that "
              "runs on the directory host or the FOG server: the one `remote service-host` "
              "names).")  # fmt: skip
@_shared_run_options
@click.option("--ticket", "ticket_ref", metavar="REF", help="Record the job on this ticket.")
@click.option("--accept-host-key", metavar="SHA256:...",
              help="Trust the host's key if it has exactly this fingerprint.")  # fmt: skip
@json_option
@with_app
def remote_run(
    app: AppContext,
    recipe_id: str,
    host: str | None,
    ticket_ref: str | None,
    accept_host_key: str | None,
    as_json: bool,
    **options: Any,
) -> int:
    """Run RECIPE on --host, streaming its output, then print the outcome.

    Exit 0 when ok or reboot needed, 1 for any other outcome, 2 for bad input.
    """
    from workbench.remote.jobs import JobRunner  # noqa: PLC0415
    from workbench.services.remote import RemoteService  # noqa: PLC0415

    [request] = _prepare(app, recipe_id, [host], options, ticket_ref, accept_host_key)
    runner = JobRunner(app.data_dir, max_workers=1)
    try:
        job = runner.submit(request, None if as_json else _stream)
        try:
            result = job.result()
        except KeyboardInterrupt:
            job.cancel()
            result = job.result()
    finally:
        runner.shutdown()
    recorded = RemoteService(app.tickets).record(result) is not None
    if as_json:
        render.emit_json(_result_json(result, recorded))
    else:
        render.say(
            f"{recipe_id} on {request.target.host}: {_outcome_text(result)}"
            + (f"; recorded on {request.ticket_ref}" if recorded else "")
            + f"; log {result.log_path}"
        )
    return 0 if result.outcome.succeeded else 1


def _target_text(request: JobRequest, result: JobResult) -> str:
    host = f"[{result.host}]" if ":" in result.host else result.host
    return f"{request.target.username}@{host}:{result.port}"


def _read_hosts(hosts: tuple[str, ...], hosts_file: Path | None) -> list[str]:
    names = list(hosts)
    if hosts_file is not None:
        text = read_text_file(hosts_file, "the hosts file")
        names += [ln.split("#")[0].strip() for ln in text.splitlines() if ln.split("#")[0].strip()]
    unique = list(dict.fromkeys(names))
    if not unique:
        raise BadInput("name at least one host: --host H (repeatable) or --hosts-file FILE")
    return unique


@remote.command("fanout")
@click.argument("recipe_id", metavar="RECIPE")
@click.option(
    "--host",
    "hosts",
    multiple=True,
    metavar="[USER@]HOST[:PORT]",
    help="A target host (repeatable).",
)
@click.option(
    "--hosts-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="One host a line (# comments); e.g. a retry list written by an earlier run.",
)
@click.option("--concurrency", type=WholeNumber(1, 64), default=8, show_default=True)
@_shared_run_options
@json_option
@with_app
def remote_fanout(
    app: AppContext,
    recipe_id: str,
    hosts: tuple[str, ...],
    hosts_file: Path | None,
    concurrency: int,
    as_json: bool,
    **options: Any,
) -> int:
    """Run RECIPE on many hosts, at most --concurrency at a time; a result table at the end.

    Host keys must be trusted already (`remote run --accept-host-key` per host). Hosts that
    were unreachable are written to a retry list to pass back with --hosts-file.
    Exit 0 when every host ended ok or reboot needed, else 1.
    """
    from workbench.remote.jobs import JOBS_DIRNAME, JobRunner  # noqa: PLC0415
    from workbench.remote.outcome import Outcome  # noqa: PLC0415
    from workbench.services.remote import RemoteService  # noqa: PLC0415

    requests = _prepare(app, recipe_id, _read_hosts(hosts, hosts_file), options)
    runner = JobRunner(app.data_dir, max_workers=concurrency)

    def prefixed(host: str) -> Any:
        return lambda stream, line: _stream(stream, f"{host} | {line}")

    try:
        jobs = [runner.submit(r, None if as_json else prefixed(r.target.host)) for r in requests]
        try:
            results = [job.result() for job in jobs]
        except KeyboardInterrupt:
            for job in jobs:
                job.cancel()
            results = [job.result() for job in jobs]
    finally:
        runner.shutdown()
    RemoteService(app.tickets).audit(results)
    retry = [
        _target_text(q, r) for q, r in zip(requests, results, strict=True)
        if r.outcome is Outcome.UNREACHABLE
    ]  # fmt: skip
    retry_path = None
    if retry:
        retry_path = (
            app.data_dir
            / JOBS_DIRNAME
            / f"retry-{recipe_id}-{results[0].started_at:%Y%m%d-%H%M%S}.txt"
        )
        retry_path.write_text("".join(f"{host}\n" for host in retry), encoding="utf-8")
    if as_json:
        render.emit_json({
            "recipe": recipe_id,
            "results": [_result_json(r, False) for r in results],
            "retry": retry,
            "retry_file": str(retry_path) if retry_path else None,
        })  # fmt: skip
    else:
        render.print_table(
            [[f"{r.host}:{r.port}", r.outcome.label,
              "" if r.exit_code is None else str(r.exit_code), f"{r.seconds:.1f}", r.message]
             for r in results],
            ["HOST", "OUTCOME", "EXIT", "SECONDS", "MESSAGE"],
        )  # fmt: skip
        ok = sum(r.outcome.succeeded for r in results)
        render.say(f"{ok} of {len(results)} hosts ok"
                   + (f"; retry the unreachable ones with --hosts-file {retry_path}"
                      if retry_path else ""))  # fmt: skip
    return 0 if all(r.outcome.succeeded for r in results) else 1


@remote.command("service-host")
@click.argument("target", required=False, type=click.Choice([t.value for t in SERVICE_TARGETS]))
@click.argument("host", required=False)
@click.option("--clear", is_flag=True, help="Forget the host named for TARGET.")
@json_option
@with_app
def service_host(
    app: AppContext, target: str | None, host: str | None, clear: bool, as_json: bool
) -> None:
    """Show or set where recipes run that are not for the ticket's machine: the directory host
    (a server with RSAT, for the ad.* recipes) and the FOG server (fog.*). Kept in this cache."""
    from workbench.services.recipes import ServiceHosts  # noqa: PLC0415

    hosts = ServiceHosts(app.store)
    if target is None:
        if host is not None or clear:
            raise BadInput("name the TARGET to set or clear: directory-host or fog-server")
    elif clear == (host is not None):
        raise BadInput(f"give the host for {target}, or --clear to forget it (not both)")
    else:
        hosts.set(Target(target), host)
    current = hosts.all()
    if as_json:
        render.emit_json({t.value: h for t, h in current.items()})
        return
    for kind, name in current.items():
        render.say(f"{kind.value}: {name or 'none (set it with: ' + setting_hint(kind) + ')'}")


@remote.group("known-hosts")
def known_hosts() -> None:
    """The host keys this workbench trusts (its own file in the data dir)."""


@known_hosts.command("list")
@json_option
@with_app
def known_hosts_list(app: AppContext, as_json: bool) -> None:
    """Every trusted host key with its SHA256 fingerprint."""
    from workbench.remote.hostkeys import KnownHosts  # noqa: PLC0415

    entries = KnownHosts.in_data_dir(app.data_dir).entries()
    if as_json:
        render.emit_json({"known_hosts": [render.record_json(e) for e in entries]})
    elif not entries:
        render.say("No trusted host keys yet.")
    else:
        render.print_table(
            [[e.name, e.key_type, e.fingerprint] for e in entries], ["HOST", "TYPE", "FINGERPRINT"]
        )


@known_hosts.command("forget")
@click.argument("host")
@click.option("--port", type=WholeNumber(1, 65535), default=22, show_default=True)
@with_app
def known_hosts_forget(app: AppContext, host: str, port: int) -> None:
    """Stop trusting HOST's key (e.g. after a reinstall); the next run shows the new one."""
    from workbench.remote.hostkeys import KnownHosts  # noqa: PLC0415

    count = KnownHosts.in_data_dir(app.data_dir).forget(host, port)
    render.say(f"Forgot {plural(count, 'key')} of {host} port {port}.")
