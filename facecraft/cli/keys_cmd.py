"""``facecraft keys``: which certificate signs content credentials; re-issue it; sign as an organisation."""

from __future__ import annotations

import argparse
from pathlib import Path

from facecraft.provenance import certs
from facecraft.provenance.keys import config_dir

EPILOG = """The signing identity lives in the config folder ($FACECRAFT_CONFIG_DIR, else
$XDG_CONFIG_HOME/facecraft, else ~/.config/facecraft), or where FACECRAFT_SIGNER_CERT and
FACECRAFT_SIGNER_KEY point. A local certificate proves a file was not changed after signing, not who
signed it; to sign as your organisation see 'use-org' and docs/responsible-use.md."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "keys",
        help="show, re-issue or replace the certificate that signs content credentials",
        description="Manage the key and certificate that sign every output's C2PA content credentials.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(p))
    actions.add_parser("show", help="which key and certificate sign, who issued it, until when")
    reissue = actions.add_parser(
        "reissue",
        help="a new signing certificate (and key) from the kept local CA, e.g. when it expires",
    )
    reissue.add_argument("--keep-key", action="store_true", help="renew the certificate for the same key")
    org = actions.add_parser(
        "use-org",
        help="sign as your organisation: check CERT and KEY and install them in the config folder",
    )
    org.add_argument("cert", metavar="CERT", help="PEM: the signing certificate followed by its chain")
    org.add_argument("key", metavar="KEY", help="PEM: its private key (P-256, unencrypted PKCS#8)")
    p.set_defaults(func=run)


def _describe(info: certs.SignerInfo) -> str:
    state = "EXPIRED" if info.expired else "valid"
    kind = "local CA (unverified identity)" if info.local else "not the local CA (an organisation's?)"
    lines = [
        f"signing certificate: {info.cert_path} ({info.source}; chain of {info.chain_length})",
        f"signing key:         {info.key_path}",
        f"  subject: {info.subject}",
        f"  issuer:  {info.issuer} [{kind}]",
        f"  serial:  {info.serial_hex}",
        f"  {state} {info.not_before:%Y-%m-%d} .. {info.not_after:%Y-%m-%d}",
        "  re-issue: "
        + (
            "facecraft keys reissue"
            if info.can_reissue
            else "not here (no local CA key for this certificate)"
        ),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        info = certs.current_signer()
        if info is None:
            print(
                f"no signing identity yet in {config_dir()}: one is made with the first labelled output, "
                "or now with 'facecraft keys reissue'"
            )
            return 0
    elif args.action == "reissue":
        info = certs.reissue(keep_key=args.keep_key)
        print(
            "re-issued the signing certificate"
            + (" for the same key" if args.keep_key else " with a new key")
        )
    else:
        info = certs.use_org(Path(args.cert), Path(args.key))
        print(f"outputs are now signed with {Path(args.cert).name}; the previous pair is kept as *.local")
    print(_describe(info))
    return 0
