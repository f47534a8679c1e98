#!/usr/bin/env python3
"""Parses Prometheus text exposition format from stdin with Prometheus' own
Python client (prometheus_client.parser) and prints it as JSON:
{family: {"type": t, "samples": [{"name", "labels", "value", "timestamp"}]}}.
A parse error exits 1 with the parser's message. Used by tests/e2e/kubelet.test.mjs."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    out = {}
    try:
        for fam in text_string_to_metric_families(sys.stdin.read()):
            out[fam.name] = {
                "type": fam.type,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": s.value,
                     "timestamp": None if s.timestamp is None else float(s.timestamp)}
                    for s in fam.samples
                ],
            }
    except Exception as e:  # the parser raises ValueError and friends
        print(f"promparse: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
