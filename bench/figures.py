#!/usr/bin/env python3
"""Formats the benchmarks' figures as one table or one JSON document.

    figures.py table|json [--run KEY=VALUE]... < RECORDS

The benchmark scripts (bench/nat_throughput.sh, upnp_control_plane.sh, engine_replay.sh) measure;
this only lays out what they measured, so every part reads the same. RECORDS are tab-separated
lines, one per figure or fact:

    figure  PART  REFERENCE  NAME  LABEL  COMPARE  GATEWAYD  REFERENCE-VALUE
    setting PART  KEY  VALUE
    note    PART  TEXT

--run facts about the whole run (when, which machine) head the table and the JSON's "run" object.
REFERENCE names what gatewayd is compared with (kernel, miniupnpd) or is "-" for none. COMPARE is
"ratio" (gatewayd / reference), "ratio+difference" (also gatewayd - reference) or "none". A value
that could not be measured is "n/a" and becomes null. Parts keep the order they first appear in.
"""
import argparse
import json
import sys

PART_TITLES = {
    "dataplane": "Data plane LAN→WAN (veth lab, iperf3 and lab_probe)",
    "latency": "Latency: UDP request/response round trips through the gateway",
    "engine": "Engine: gatewayd --replay over a generated capture (one thread)",
    "control": "UPnP control plane (python3-miniupnpc on the LAN host)",
}


def _number(text):
    if text in ("", "n/a", "null", "-"):
        return None
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _read(lines):
    parts = {}

    def part(name):
        return parts.setdefault(name, {"settings": {}, "figures": [], "notes": []})

    for line_number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        fields = line.split("\t")
        kind = fields[0]
        if kind == "figure" and len(fields) == 8:
            _, name, reference, key, label, compare, gatewayd, reference_value = fields
            figure = {"name": key, "label": label, "gatewayd": _number(gatewayd)}
            if reference != "-":
                part(name)["reference"] = reference
                figure[reference] = _number(reference_value)
                _compare(figure, compare, figure["gatewayd"], figure[reference])
            part(name)["figures"].append(figure)
        elif kind == "setting" and len(fields) == 4:
            part(fields[1])["settings"][fields[2]] = _number_or_text(fields[3])
        elif kind == "note" and len(fields) == 3:
            part(fields[1])["notes"].append(fields[2])
        else:
            raise SystemExit(f"figures.py: line {line_number}: not a figure, setting or note record: {line!r}")
    return parts


def _number_or_text(text):
    try:
        return _number(text)
    except ValueError:
        return text


def _compare(figure, compare, gatewayd, reference):
    if compare == "none":
        return
    both = gatewayd is not None and reference is not None
    figure["ratio"] = round(gatewayd / reference, 3) if both and reference != 0 else None
    if compare == "ratio+difference":
        figure["difference"] = round(gatewayd - reference, 3) if both else None


def _cell(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _print_table(parts, run):
    if run:
        print("gatewayd benchmarks: " + ", ".join(f"{k} {json.dumps(v) if isinstance(v, bool) else v}" for k, v in run.items()))
    for name, part in parts.items():
        reference = part.get("reference")
        print(f"\n{PART_TITLES.get(name, name)}")
        settings = ", ".join(f"{k} {v}" for k, v in part["settings"].items())
        if settings:
            print(f"  ({settings})")
        has_difference = any("difference" in f for f in part["figures"])
        header = f"  {'':44} {'gatewayd':>12}"
        if reference:
            header += f" {reference:>12} {'gatewayd/' + reference:>20}"
            if has_difference:
                header += f" {'difference':>12}"
        print(header)
        for figure in part["figures"]:
            row = f"  {figure['label']:44} {_cell(figure['gatewayd']):>12}"
            if reference:
                ratio = _cell(figure["ratio"]) if "ratio" in figure else "-"
                row += f" {_cell(figure.get(reference)):>12} {ratio:>20}"
                if has_difference:
                    row += f" {_cell(figure['difference']) if 'difference' in figure else '-':>12}"
            print(row)
        for note in part["notes"]:
            print(f"  note: {note}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("format", choices=("table", "json"))
    parser.add_argument("--run", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    run = {}
    for fact in args.run:
        key, _, value = fact.partition("=")
        run[key] = {"true": True, "false": False}.get(value, _number_or_text(value))
    parts = _read(sys.stdin)
    if args.format == "json":
        json.dump({"run": run, "parts": parts} if run else {"parts": parts}, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_table(parts, run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
