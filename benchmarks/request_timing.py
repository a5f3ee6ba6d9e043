"""How well are the speed and the length a request names read? Text only, on labelled spoken requests.

On ``motiongpt/lm/timing_{val,test}_requests.yaml`` (written by helpers who read no file of the project; the
reader was written looking at val, test was read once after): the speed read right (slow, fast or none), with the
data's own speed words alone (`motiongpt.data.augment.named_speed`, what the model's captions say) and with the
request reader (`motiongpt.lm.request_timing`, those words and ``speed_phrasings.yaml``); among the requests that
name a speed, and how often a speed is read where none or the other was asked; the length read right (seconds,
none when no definite length), among those that name one, and lengths read where none was said; and how often the
command splitter keeps the request one step (each asks for one movement). With ``--model``, also how often the
model's meaning index accepts the request as a known action, read as said and as its motion is generated
(`MotionGPT.meanings`: without its length, and its speed where played).

    python benchmarks/request_timing.py [--split val|test] [--model models/motiongpt-small]
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def share(hits) -> float | None:
    hits = list(hits)
    return round(float(np.mean(hits)), 3) if hits else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--model", default=None, help="a model folder: also report its meaning index's acceptance")
    args = parser.parse_args()

    from motiongpt.data.augment import named_speed
    from motiongpt.lm.commands import split_command
    from motiongpt.lm.request_timing import read_timing, timing_requests

    rows = timing_requests(args.split)
    timings = [read_timing(r["text"]) for r in rows]
    report: dict = {"split": args.split, "requests": len(rows)}
    asked = [r["speed"] for r in rows]
    for name, read in (("data speed words", [named_speed(r["text"]) or "none" for r in rows]),
                       ("request reader", [t.speed or "none" for t in timings])):
        report[name] = {
            "speed_right": share(a == b for a, b in zip(asked, read)),
            "speed_right_where_named": share(a == b for a, b in zip(asked, read) if a != "none"),
            "speed_wrong": share(b != "none" and a != b for a, b in zip(asked, read)),
        }
    said = [r["seconds"] for r in rows]
    read_seconds = [t.seconds for t in timings]
    same = [a == b if a is None or b is None else abs(a - b) < 1e-6 for a, b in zip(said, read_seconds)]
    report["length_right"] = share(same)
    report["length_right_where_said"] = share(s for s, a in zip(same, said) if a is not None)
    report["length_read_where_none_said"] = share(b is not None for a, b in zip(said, read_seconds) if a is None)
    report["kept_one_step"] = share(len(split_command(r["text"])) == 1 for r in rows)
    print(f"{args.split}: {len(rows)} requests, {sum(a != 'none' for a in asked)} name a speed, "
          f"{sum(a is not None for a in said)} a length")
    for name in ("data speed words", "request reader"):
        print(f"  speed, {name:17}: right {report[name]['speed_right']}, right where named "
              f"{report[name]['speed_right_where_named']}, wrong {report[name]['speed_wrong']}")
    print(f"  length: right {report['length_right']}, right where said {report['length_right_where_said']}, "
          f"read where none said {report['length_read_where_none_said']}")
    print(f"  kept one step by the command splitter: {report['kept_one_step']}")
    if args.model:
        from motiongpt.lm import MotionGPT

        model = MotionGPT.from_pretrained(args.model)
        steps = [split_command(r["text"])[0] for r in rows]
        as_said = model.meanings(steps, as_said=True)
        generated = model.meanings(steps)
        report["accepted_as_said"] = share(m.known for m in as_said)  # as the node's refuse_unknown
        report["accepted_as_generated"] = share(m.known for m in generated)
        report["same_action"] = share(a.action == b.action for a, b in zip(as_said, generated))
        print(f"  the meaning index accepts the first step: as said {report['accepted_as_said']}, as generated "
              f"{report['accepted_as_generated']} (the same action read for {report['same_action']})")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
