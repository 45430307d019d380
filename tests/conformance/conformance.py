#!/usr/bin/python3
"""The RFC conformance run (issue 18.6): every check of tests/conformance/rfc*.py against one target.

  run --out FILE.json [--only 'RFC 4787 REQ-1' ...]
      runs every registered check (conformance_api.requirement) against the lab described by the
      environment (conformance_api.Lab.from_environment) and writes one JSON record per check:
      {"rfc", "req", "level", "title", "target", "filtering", "status", "detail", "seconds"}.
      A check that raises is a FAIL with the exception as its detail.

  render [--command TEXT] RESULTS.json... > compliance.md
      the compliance sheet (docs/compliance.md): requirement by requirement, gatewayd in each
      filtering mode and the kernel beside it (sheet.py).

  verify --sheet docs/compliance.md RESULTS.json...
      exits 1 when a MUST or SHOULD (RECOMMENDED) is FAIL for gatewayd in any mode, or when a
      requirement of the four RFCs has no check; compares gatewayd's columns with the committed
      sheet (a difference fails: regenerate it) and reports the kernel's differences only.

  selftest
      the verdict of `verify` on made-up results (a SHOULD that gatewayd fails must fail it, a MAY
      or a kernel difference must not, ...): exits 1 when it judges one wrongly.
"""

import argparse
import glob
import importlib.util
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance_api as api  # noqa: E402


def load_checks() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "rfc*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


def run(args) -> int:
    load_checks()
    lab = api.Lab.from_environment()
    records = []
    for r in api.REGISTRY:
        key = f"{r.rfc} {r.req}"
        if args.only and key not in args.only:
            continue
        started = time.monotonic()
        try:
            outcome = r.check(lab)
        except Exception as error:  # a broken check must show, never pass
            outcome = api.failed(f"the check raised {type(error).__name__}: {error}")
            traceback.print_exc()
        record = {"rfc": r.rfc, "req": r.req, "level": r.level, "title": r.title, "target": lab.target,
                  "filtering": lab.filtering, "status": outcome.status, "detail": outcome.detail,
                  "seconds": round(time.monotonic() - started, 2)}
        records.append(record)
        print(f"{outcome.status:4}  {key:18} {lab.target}/{lab.filtering}  {outcome.detail}", flush=True)
    with open(args.out, "w") as out:
        json.dump(records, out, indent=1)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--out", required=True)
    p.add_argument("--only", action="append", default=[])
    p = sub.add_parser("render")
    p.add_argument("--command", dest="generated_by", default="ctest -R integration.rfc_conformance")
    p.add_argument("results", nargs="+")
    p = sub.add_parser("verify")
    p.add_argument("--sheet", required=True)
    p.add_argument("results", nargs="+")
    sub.add_parser("selftest")
    args = parser.parse_args()
    if args.command == "run":
        return run(args)
    import sheet

    if args.command == "selftest":
        return sheet.self_test()

    records = sheet.read_results(args.results)
    if args.command == "render":
        sys.stdout.write(sheet.render(records, args.generated_by))
        return 0
    return sheet.verify(records, args.sheet)


if __name__ == "__main__":
    sys.exit(main())
