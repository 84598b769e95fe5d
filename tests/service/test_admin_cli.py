"""``voxclone admin`` and ``serve``'s first-account bootstrap, through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxclone.cli import main
from voxclone.cli.serve import ensure_first_account
from voxclone.service.accounts import AccountService
from voxclone.settings import Settings
from voxclone.store.db import open_database


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().out.strip().splitlines()


def test_admin_forms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    code, out = _run(capsys, "admin", "create-key", "--data-dir", d, "--credits", "2.5", "--account", "ann")
    key = out[-1]
    assert code == 0 and key.startswith("oute_") and len(key) >= 5 + 32
    code, out = _run(capsys, "admin", "add-credits", "--data-dir", d, "--account", "ann", "--credits", "0.25")
    assert (code, out[-1]) == (0, "2.750000")
    code, out = _run(capsys, "admin", "create-key", "--data-dir", d, "--credits", "0", "--account", "ann")
    second = out[-1]
    code, out = _run(capsys, "admin", "list-accounts", "--data-dir", d, "--json")
    (row,) = json.loads("\n".join(out))["accounts"]
    assert (row["name"], row["balance"], row["active_keys"]) == ("ann", "2.750000", 2)
    code, out = _run(capsys, "admin", "revoke-key", "--data-dir", d, "--key", second)
    assert (code, out[-1]) == (0, "revoked")
    assert _run(capsys, "admin", "revoke-key", "--data-dir", d, "--key", second)[0] == 4
    assert _run(capsys, "admin", "add-credits", "--data-dir", d, "--account", "bob", "--credits", "1")[0] == 4
    assert _run(capsys, "admin", "add-credits", "--data-dir", d, "--account", "ann", "--credits", "x")[0] == 2
    settings = Settings(data_dir=tmp_path)
    db = open_database(settings)
    accounts = AccountService(db=db, settings=settings)
    assert accounts.authenticate(key).name == "ann"
    db.close()


def test_serve_creates_first_account_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    key = ensure_first_account(settings)
    assert key is not None and key.startswith("oute_")
    assert ensure_first_account(settings) is None
    db = open_database(settings)
    summary = AccountService(db=db, settings=settings).list_accounts()
    assert [(s.name, s.balance) for s in summary] == [("default", "10.000000")]
    db.close()


def test_admin_uses_database_url(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOXCLONE_DATABASE_URL", postgres_url)
    code, out = _run(
        capsys, "admin", "create-key", "--data-dir", str(tmp_path), "--credits", "1", "--account", "pg"
    )
    assert code == 0 and out[-1].startswith("oute_")
    assert not (tmp_path / "voxclone.db").exists()
    code, out = _run(capsys, "admin", "list-accounts", "--json")
    assert "pg" in [r["name"] for r in json.loads("\n".join(out))["accounts"]]


def test_admin_set_consent_overrides_the_server_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voxclone.service.consent import ConsentService

    d = str(tmp_path)
    code, out = _run(capsys, "admin", "create-key", "--data-dir", d, "--credits", "1", "--account", "ann")
    settings = Settings(data_dir=tmp_path)
    db = open_database(settings)
    ref = AccountService(db=db, settings=settings).authenticate(out[-1])
    consent = ConsentService(db=db, settings=settings, encoder=lambda: None)  # type: ignore[arg-type,return-value]
    strict = ConsentService(
        db=db,
        settings=Settings(data_dir=tmp_path, require_consent=True),
        encoder=lambda: None,  # type: ignore[arg-type,return-value]
    )
    assert (consent.required(account=ref), strict.required(account=ref)) == (False, True)
    for value, expected in (("true", (True, True)), ("false", (False, False)), ("default", (False, True))):
        code, out = _run(
            capsys, "admin", "set-consent", "--data-dir", d, "--account", "ann", "--required", value
        )
        assert code == 0 and out[-1].startswith("account ann: spoken consent")
        assert (consent.required(account=ref), strict.required(account=ref)) == expected
    assert (
        _run(capsys, "admin", "set-consent", "--data-dir", d, "--account", "bob", "--required", "true")[0]
        == 4
    )
    with pytest.raises(SystemExit):
        main(["admin", "set-consent", "--data-dir", d, "--account", "ann", "--required", "maybe"])
    db.close()
