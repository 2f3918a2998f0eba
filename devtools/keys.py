"""Make a signing key pair for a deployment: ``python -m devtools.keys new KID SIGNER``.

Prints the private key (PEM: put it in the signer's Secret as ``JWT_PRIVATE_KEY``, with
``JWT_KID``=KID) and the public key's JWKS entry (add it to ``JWT_PUBLIC_KEYS``, the JWKS every
process verifies with). SIGNER is ``registry`` for the enterprise service (its tokens may name
anyone), else the process's name (``gateway``, ``ticketing`` ...: it signs only its own service
identity). ``python -m devtools.keys jwks FILE...`` joins JWKS entries into one document.
Rotation: docs/operations.md, "Credentials and signing keys".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    new = sub.add_parser("new", help="a new Ed25519 key pair")
    new.add_argument("kid", help="the key's id, e.g. registry-2026-12")
    new.add_argument("signer", help="registry, gateway, ticketing, notification, supplydemand")
    new.add_argument("--out", type=Path, help="directory for <kid>.pem and <kid>.jwk.json")
    jwks = sub.add_parser("jwks", help="join JWKS entries (files of one entry each)")
    jwks.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "new":
        pem, jwk = keys.generate(args.kid, args.signer)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            private = args.out / f"{args.kid}.pem"
            private.write_text(pem)
            private.chmod(0o600)
            (args.out / f"{args.kid}.jwk.json").write_text(json.dumps(jwk) + "\n")
            print(f"wrote {private} and {args.out / f'{args.kid}.jwk.json'}")
        else:
            sys.stdout.write(pem)
            print(json.dumps(jwk))
        return 0
    entries = [json.loads(path.read_text()) for path in args.files]
    print(json.dumps({"keys": entries}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
