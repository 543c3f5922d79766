"""`central import directory` against a real OpenLDAP slapd and a real PostgreSQL central
(tests/support/slapd.py, tests/support/postgres.py): mapping, reruns, people who left, TLS,
bad credentials and servers, technicians, dry runs, paged searches past the size limit."""

from __future__ import annotations

import io
import json
import socket
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import prepare_central
from tests.support.keyrings import JsonFileKeyring
from tests.support.slapd import (
    COMPUTER_DN,
    LIMITED_READER_DN,
    PEOPLE,
    READER_DN,
    STAFF,
    TECHNICIANS_GROUP,
    Person,
    SlapdServer,
    numbered_people,
)
from workbench.cli import run
from workbench.cli.app import cli
from workbench.services.directory import KEYRING_SERVICE
from workbench.sync import central

# Keyrings are the test's own (a file in its tmp dir), never the OS keyring.
pytestmark = [pytest.mark.services, pytest.mark.usefixtures("profile_keyring")]

ANA, BEN, CHEN, DANA, EVE, BACKUP = STAFF


@pytest.fixture
def central_url(pg_database: str) -> str:
    """A central database with tests/support/workbench's cast (Ben is a tier-2 technician,
    Dana Whitfield a requester the directory does not know)."""
    return prepare_central(pg_database)


def wb(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code = run(["--data-dir", str(tmp_path / "data"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def directory_args(
    slapd: SlapdServer, central_url: str, *extra: str, base: str = PEOPLE
) -> list[str]:
    """Over LDAPS with the test CA, as the reader, its password on stdin."""
    return [
        "central", "import", "directory", "--ldap", slapd.ldaps_url, "--ca-file",
        str(slapd.ca_file), "--base", base, "--bind", slapd.reader_dn, "--password-stdin",
        "--url", central_url, *extra,
    ]  # fmt: skip


def imported(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd: SlapdServer,
    central_url: str,
    *extra: str,
    base: str = PEOPLE,
) -> Any:
    code, out, err = wb(
        capsys, tmp_path, *directory_args(slapd, central_url, *extra, "--json", base=base),
        stdin=slapd.reader_password + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert slapd.reader_password not in out + err
    return json.loads(out)


def refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], stdin: str = ""
) -> tuple[int, str]:
    """A failed command's exit code and its one line on stderr."""
    code, out, err = wb(capsys, tmp_path, *args, stdin=stdin)
    assert code != 0 and out == ""
    assert err.startswith("workbench: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return code, err


def rows(url: str, table: str) -> dict[str, dict[str, Any]]:
    """A central table's rows by e-mail (requesters), login (technicians) or id."""
    key = {"requesters": "email", "technicians": "login"}.get(table, "id")
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        found = db.execute(select(central.metadata.tables[table])).mappings()
        result = {r[key]: dict(r) for r in found}
    engine.dispose()
    return result


def central_state(url: str) -> tuple[dict[str, dict[str, Any]], ...]:
    return rows(url, "requesters"), rows(url, "technicians"), rows(url, "audit_events")


def test_import_maps_people_and_enrols_the_technicians_group(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    report = imported(
        capsys, tmp_path, slapd_server, central_url, "--technicians-group", TECHNICIANS_GROUP
    )
    # Six people; the AD computer account under the same base is no person.
    assert report["entries"] == 6 and not any(s["dn"] == COMPUTER_DN for s in report["skipped"])
    assert report["requesters"] | {"refused": []} == {
        "kind": "requesters", "new": 5, "changed": 0, "unchanged": 0, "refused": [],
        "deactivated": 1, "dry_run": False,
    }  # fmt: skip
    assert report["enrolled"] == ["cwei", "eve.martin"]
    assert report["already_enrolled"] == ["ben.okafor"]
    assert {s["dn"]: s["reason"] for s in report["skipped"]} == {
        BACKUP.dn(): "no e-mail address: not a requester",
        DANA.dn(): "in --technicians-group but disabled in the directory",
        READER_DN: "in --technicians-group but not found by the search (--base, --filter)",
    }

    requesters = rows(central_url, "requesters")
    shown = {
        email: (r["name"], r["phone"], r["department"], r["site_id"], r["active"])
        for email, r in requesters.items()
    }
    assert shown == {
        # displayName; else cn. inetOrgPerson: departmentNumber, l; AD: department,
        # physicalDeliveryOfficeName, and the disabled bit of userAccountControl.
        ANA.mail: ("Ana López", ANA.phone, "Accounting", "site-oly", 1),
        BEN.mail: ("Ben Okafor", BEN.phone, "Facilities", "site-oly", 1),
        CHEN.mail: ("Chen Wei (IT)", CHEN.phone, "IT", "site-oly", 1),
        DANA.mail: ("Dana Kim", DANA.phone, "Legal", "site-oly", 0),
        EVE.mail: ("Eve Martin", EVE.phone, "IT", "site-oly", 1),
        # Not in the directory: inactive, never deleted (tickets keep their requester).
        "dana.whitfield@agency.example": (
            "Dana Whitfield", "360-555-0142", "Accounting", "site-oly", 0,
        ),
    }  # fmt: skip
    technicians = rows(central_url, "technicians")
    chen, eve, ben = technicians["cwei"], technicians["eve.martin"], technicians["ben.okafor"]
    assert (chen["name"], chen["email"], chen["tier"], chen["role"], chen["active"]) == (
        "Chen Wei (IT)", CHEN.mail, 1, "agent", 1,
    )  # fmt: skip
    assert (eve["tier"], eve["role"]) == (1, "agent")
    assert (ben["tier"], ben["role"]) == (2, "field")  # enrolled before: left as it was
    for written in (tmp_path / "data").iterdir():  # the log among them
        assert slapd_server.reader_password.encode() not in written.read_bytes()


def test_text_output_and_password_from_the_keyring_or_a_hidden_prompt(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
    profile_keyring: JsonFileKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [a for a in directory_args(slapd_server, central_url) if a != "--password-stdin"]
    # Without --password-stdin, nothing in the keyring and no terminal: refused, the option
    # named (never an echoing read).
    code, err = refused(capsys, tmp_path, [*args, "--dry-run"])
    assert code == 2 and "give it on stdin with --password-stdin" in err
    # On a terminal: a prompt that does not echo.
    monkeypatch.setattr("workbench.cli.passwords.has_terminal", lambda: True)
    prompted = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "data"), *args, "--dry-run"],
        input=slapd_server.reader_password + "\n",
    )  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert f"Password for {READER_DN}:" in prompted.output
    assert slapd_server.reader_password not in prompted.output
    assert "Would import 6 entries" in prompted.output and "Dry run" in prompted.output

    profile_keyring.set_password(KEYRING_SERVICE, READER_DN, slapd_server.reader_password)
    code, out, err = wb(capsys, tmp_path, *args)
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"Imported 6 entries from {slapd_server.ldaps_url} ({PEOPLE}): 5 new, 0 changed, "
        "0 unchanged, 1 now inactive."
    )
    assert f"  {BACKUP.dn()}: no e-mail address: not a requester" in out.splitlines()

    # A stale password in the keyring: the refusal says where the password came from.
    profile_keyring.set_password(KEYRING_SERVICE, READER_DN, "stale-Passw0rd")
    code, err = refused(capsys, tmp_path, args)
    assert code == 2
    assert err == (
        f"workbench: error: directory {slapd_server.ldaps_url}: bind as {READER_DN} (password "
        "from the keyring): wrong password or no such account\n"
    )
    assert "stale-Passw0rd" not in err


def test_rerun_changes_nothing_and_people_who_left_become_inactive(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    people = [ANA, CHEN, EVE]
    with slapd_server.branch(people) as base:
        first = imported(capsys, tmp_path, slapd_server, central_url, base=base)
        assert (first["requesters"]["new"], first["requesters"]["deactivated"]) == (3, 1)
        after_first = rows(central_url, "requesters")

        again = imported(capsys, tmp_path, slapd_server, central_url, base=base)["requesters"]
        assert (again["new"], again["changed"], again["unchanged"], again["deactivated"]) == (
            0, 0, 3, 0,
        )  # fmt: skip
        assert rows(central_url, "requesters") == after_first  # not even a version moved

        slapd_server.remove(CHEN.dn(base))
        gone = imported(capsys, tmp_path, slapd_server, central_url, base=base)["requesters"]
        assert (gone["changed"], gone["unchanged"], gone["deactivated"]) == (0, 2, 1)
        chen = rows(central_url, "requesters")[CHEN.mail]
        assert chen["active"] == 0 and chen["id"] == after_first[CHEN.mail]["id"]

        # Back, with a new phone number: the same requester, active again and changed.
        slapd_server.add_people([replace(CHEN, phone="+1 360 555 0199")], base)
        back = imported(capsys, tmp_path, slapd_server, central_url, base=base)["requesters"]
        assert (back["new"], back["changed"], back["unchanged"]) == (0, 1, 2)
        chen = rows(central_url, "requesters")[CHEN.mail]
        assert (chen["active"], chen["phone"], chen["id"]) == (
            1, "+1 360 555 0199", after_first[CHEN.mail]["id"],
        )  # fmt: skip


def test_attribute_map_replaces_the_default_sources(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    report = imported(
        capsys, tmp_path, slapd_server, central_url,
        "--map", "givenName+sn=name", "--map", "=site", "--map", "cn=phone",
    )  # fmt: skip
    assert report["requesters"]["new"] == 5
    chen = rows(central_url, "requesters")[CHEN.mail]
    assert (chen["name"], chen["phone"], chen["site_id"]) == ("Chen Wei", "Chen Wei", None)

    code, err = refused(
        capsys, tmp_path, directory_args(slapd_server, central_url, "--map", "mail")
    )
    assert code == 2 and "--map 'mail': use ATTRIBUTE=FIELD" in err


def test_dry_run_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    before = central_state(central_url)
    report = imported(
        capsys, tmp_path, slapd_server, central_url,
        "--technicians-group", TECHNICIANS_GROUP, "--dry-run",
    )  # fmt: skip
    assert report["dry_run"] and report["requesters"]["dry_run"]
    assert (report["requesters"]["new"], report["enrolled"]) == (5, ["cwei", "eve.martin"])
    assert central_state(central_url) == before


def test_ldaps_and_starttls_verify_the_certificate(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    before = central_state(central_url)
    untrusted = [a for a in directory_args(slapd_server, central_url) if a != "--ca-file"]
    untrusted.remove(str(slapd_server.ca_file))
    password = slapd_server.reader_password + "\n"
    code, err = refused(capsys, tmp_path, untrusted, stdin=password)
    assert code == 1
    assert err == (
        f"workbench: error: directory {slapd_server.ldaps_url}: connect: its certificate is "
        "not trusted (unable to get local issuer certificate); give --ca-file with the CA "
        "that signed it\n"
    )
    starttls = [*untrusted, "--starttls"]
    starttls[starttls.index(slapd_server.ldaps_url)] = slapd_server.ldap_url
    code, err = refused(capsys, tmp_path, starttls, stdin=password)
    assert code == 1 and f"{slapd_server.ldap_url}: StartTLS: its certificate is not" in err
    assert central_state(central_url) == before

    cleartext = [a for a in starttls if a != "--starttls"]
    code, err = refused(capsys, tmp_path, cleartext, stdin=password)
    assert code == 2 and "would send the password in clear" in err

    code, out, err = wb(
        capsys, tmp_path, *starttls, "--ca-file", str(slapd_server.ca_file), "--json",
        stdin=password,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["requesters"]["new"] == 5


def test_wrong_password_down_server_and_bad_base_change_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    before = central_state(central_url)
    args = directory_args(slapd_server, central_url)
    code, err = refused(capsys, tmp_path, args, stdin="not-the-Passw0rd\n")
    assert code == 2
    assert err.endswith(f"bind as {READER_DN}: wrong password or no such account\n")
    assert "not-the-Passw0rd" not in err

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        down = f"ldaps://127.0.0.1:{closed.getsockname()[1]}"
    down_args = [down if a == slapd_server.ldaps_url else a for a in args]
    code, err = refused(capsys, tmp_path, down_args, stdin=slapd_server.reader_password)
    assert code == 1
    assert err == f"workbench: error: directory {down}: connect: Connection refused\n"

    bad_base = directory_args(slapd_server, central_url, base=f"ou=nobody,{PEOPLE}")
    code, err = refused(capsys, tmp_path, bad_base, stdin=slapd_server.reader_password)
    assert code == 2 and err.endswith(f"--base ou=nobody,{PEOPLE} with (&(objectClass=person)"
                                      "(!(objectClass=computer))): no such entry\n")  # fmt: skip

    # Anonymous binds see nothing here: not even the base is there for them.
    anonymous = [a for a in args if a not in ("--bind", READER_DN, "--password-stdin")]
    code, err = refused(capsys, tmp_path, anonymous)
    assert code == 2 and err.endswith("no such entry\n")

    # Finding nobody must not mean "all have left".
    nobody = directory_args(slapd_server, central_url, "--filter", "(uid=nobody)")
    code, err = refused(capsys, tmp_path, nobody, stdin=slapd_server.reader_password)
    assert code == 2 and "found nobody with an e-mail address (0 entries); nothing changed" in err
    assert central_state(central_url) == before


def test_an_entry_the_central_refuses_refuses_the_import(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    before = central_state(central_url)
    depot = Person("ivy.ng", "Ivy", "Ng", "ivy.ng@example.test", office="Tumwater Depot")
    with slapd_server.branch([ANA, depot]) as base:
        code, out, err = wb(
            capsys, tmp_path, *directory_args(slapd_server, central_url, base=base),
            stdin=slapd_server.reader_password,
        )  # fmt: skip
    assert (code, out) == (2, "")
    assert err == (
        "workbench: error: nothing imported: 1 entry refused\n"
        f"{depot.dn(base)}: no site 'Tumwater Depot' on the central database (import the "
        "sites first)\n"
    )
    assert central_state(central_url) == before


def test_paged_search_reads_past_the_size_limit(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    slapd_server: SlapdServer,
    central_url: str,
) -> None:
    people = list(numbered_people(120))
    with slapd_server.branch(people, members=people[:3]) as base:
        # The limit is real: a plain search as the reader stops at it.
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(slapd_server.ca_file))
        server = Server("127.0.0.1", slapd_server.tls_port, use_ssl=True, tls=tls, get_info=NONE)
        with Connection(server, READER_DN, slapd_server.reader_password) as plain:
            plain.search(base, "(objectClass=person)", SUBTREE, attributes=["mail"])
            assert (len(plain.entries), plain.result["description"]) == (
                slapd_server.size_limit, "sizeLimitExceeded",
            )  # fmt: skip

        report = imported(
            capsys, tmp_path, slapd_server, central_url, "--page-size", "25",
            "--technicians-group", f"cn=technicians,{base}", base=base,
        )  # fmt: skip
        assert (report["entries"], report["requesters"]["new"]) == (120, 120)
        assert report["enrolled"] == ["person00001", "person00002", "person00003"]
        assert sum(r["active"] for r in rows(central_url, "requesters").values()) == 120

        # An account whose paged searches stop at the limit too: an error, never a short
        # list (the people after the limit would be marked inactive).
        before = central_state(central_url)
        limited = directory_args(slapd_server, central_url, base=base)
        limited[limited.index(READER_DN)] = LIMITED_READER_DN
        code, err = refused(capsys, tmp_path, limited, stdin=slapd_server.reader_password)
        assert code == 1
        assert f"stopped the search after {slapd_server.size_limit} entries" in err
        assert central_state(central_url) == before
