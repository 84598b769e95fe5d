"""``voxclone admin``: accounts, keys and credits, straight on the database.

Forms (scripts rely on them; results are on the last line of stdout)::

    voxclone admin create-key  --data-dir DIR --credits N [--account NAME]   # prints the key
    voxclone admin add-credits --data-dir DIR --account NAME --credits N     # prints the balance
    voxclone admin revoke-key  --data-dir DIR --key KEY_OR_PREFIX            # prints "revoked"
    voxclone admin list-accounts --data-dir DIR [--json]
    voxclone admin reenroll      --data-dir DIR [--engine NAME] [--json]      # prints a summary

With ``VOXCLONE_DATABASE_URL`` set they act on that database instead of ``DIR``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from voxclone.errors import AuthenticationFailed, InsufficientCredits, NotFound, ServiceError
from voxclone.settings import Settings


def register(sub: Any) -> None:
    """Add ``admin`` and its sub-commands to the ``voxclone`` parser."""
    admin: argparse.ArgumentParser = sub.add_parser("admin", help="manage accounts, keys and credits")
    cmds = admin.add_subparsers(dest="admin_command", metavar="ACTION")

    def usage(_args: argparse.Namespace) -> int:
        admin.print_help(sys.stderr)
        return 2

    admin.set_defaults(handler=usage)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cmds.add_parser(name, help=help)
        p.add_argument(
            "--data-dir", type=Path, help="data folder (default $VOXCLONE_DATA_DIR or ./voxclone-data)"
        )
        return p

    p = add("create-key", "create an API key (and its account if new); prints the key last")
    p.add_argument("--credits", required=True, help="credits to add to the account, e.g. 10 or 0.5")
    p.add_argument("--account", help="account name (default: a new account)")
    p.set_defaults(handler=_create_key)

    p = add("add-credits", "add credits to an account (negative to remove); prints the new balance last")
    p.add_argument("--account", required=True, help="account name or id")
    p.add_argument("--credits", required=True, help="credits to add, e.g. 5")
    p.set_defaults(handler=_add_credits)

    p = add("set-consent", "require (or not) a spoken consent for an account's new clones")
    p.add_argument("--account", required=True, help="account name or id")
    p.add_argument(
        "--required",
        required=True,
        choices=("true", "false", "default"),
        help="true/false override the server; default follows $VOXCLONE_REQUIRE_CONSENT",
    )
    p.set_defaults(handler=_set_consent)

    p = add("revoke-key", "revoke an API key given in full or by its displayed prefix")
    p.add_argument("--key", required=True, help="the key, or its 12-character prefix")
    p.set_defaults(handler=_revoke_key)

    p = add("list-accounts", "list accounts with balance, usage and keys")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.set_defaults(handler=_list_accounts)

    p = add("reenroll", "re-create clones of an older cloning method from their kept reference audio")
    p.add_argument("--engine", help="engine whose clones to check (default $VOXCLONE_ENGINE or kokoro)")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.set_defaults(handler=_reenroll)


def _accounts(args: argparse.Namespace) -> Any:
    from voxclone.service.accounts import AccountService
    from voxclone.store.db import open_database

    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    db = open_database(settings)
    return db, AccountService(db=db, settings=settings)


def _run(args: argparse.Namespace, action: Any) -> int:
    try:
        db, accounts = _accounts(args)
        try:
            action(accounts)
        finally:
            db.close()
    except ServiceError as e:
        print(f"voxclone admin: {e.message}", file=sys.stderr)
        if isinstance(e, NotFound):
            return 4
        if isinstance(e, AuthenticationFailed):
            return 3
        if isinstance(e, InsufficientCredits):
            return 5
        return 2 if e.status == 400 else 1
    return 0


def _create_key(args: argparse.Namespace) -> int:
    def action(accounts: Any) -> None:
        ref, key = accounts.create_key(account=args.account, credits=args.credits)
        summary = accounts.summary(account_id=ref.id)
        print(f"account {ref.name} ({ref.id}) balance {summary.balance}")
        print(key)

    return _run(args, action)


def _add_credits(args: argparse.Namespace) -> int:
    return _run(
        args, lambda accounts: print(accounts.add_credits(account=args.account, credits=args.credits))
    )


def _set_consent(args: argparse.Namespace) -> int:
    required = {"true": True, "false": False, "default": None}[args.required]

    def action(accounts: Any) -> None:
        name = accounts.set_require_consent(account=args.account, required=required)
        print(f"account {name}: spoken consent {args.required if required is not None else 'server default'}")

    return _run(args, action)


def _revoke_key(args: argparse.Namespace) -> int:
    def action(accounts: Any) -> None:
        accounts.revoke_key(key=args.key)
        print("revoked")

    return _run(args, action)


def _list_accounts(args: argparse.Namespace) -> int:
    def action(accounts: Any) -> None:
        rows = [
            {
                "account_id": s.id,
                "name": s.name,
                "balance": s.balance,
                "seconds_generated": s.audio_ms / 1000,
                "clones": s.clones_held,
                "active_keys": s.active_keys,
            }
            for s in accounts.list_accounts()
        ]
        if args.json:
            print(json.dumps({"accounts": rows}, indent=2))
            return
        print(f"{'NAME':<24} {'ID':<32} {'BALANCE':>14} {'SECONDS':>10} {'CLONES':>6} {'KEYS':>4}")
        for r in rows:
            print(
                f"{r['name']:<24} {r['account_id']:<32} {r['balance']:>14} {r['seconds_generated']:>10.1f} "
                f"{r['clones']:>6} {r['active_keys']:>4}"
            )

    return _run(args, action)


def _reenroll(args: argparse.Namespace) -> int:
    from voxclone.engines.registry import create_engine
    from voxclone.service.container import Services
    from voxclone.service.reenroll import reenroll_outdated

    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    if args.engine:
        settings = settings.model_copy(update={"engine": args.engine})
    try:
        engine = create_engine(settings)
        try:
            services = Services.build(settings=settings, engine=engine)
            try:
                report = reenroll_outdated(db=services.db, clones=services.clones, engine_name=engine.name)
            finally:
                services.close()
        finally:
            engine.close()
    except ServiceError as e:
        print(f"voxclone admin: {e.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(dataclasses.asdict(report), indent=2))
    else:
        for clone_id, why in report.failed.items():
            print(f"failed {clone_id}: {why}", file=sys.stderr)
        for clone_id in report.no_reference:
            print(f"outdated, no reference audio kept: {clone_id}", file=sys.stderr)
        print(
            f"checked {report.checked}, re-enrolled {len(report.reenrolled)}, "
            f"left outdated {len(report.no_reference)}, failed {len(report.failed)}"
        )
    return 1 if report.failed else 0
