#!/usr/bin/env python3
"""A stand-in for Benchmarks/peers/peers.py --serve (standard library only): it reads the export's
graph.json, claims exact agreement at every checkpoint, and answers timing requests after 10 ms.
FAKE_PEER_MODE=die exits before reporting; FAKE_PEER_MODE=disagree reports a failed checkpoint."""
import json, os, sys, time

args = sys.argv[1:]
folder = args[args.index("--export") + 1]
runtime = args[args.index("--runtime") + 1]
mode = os.environ.get("FAKE_PEER_MODE", "")
if mode == "die":
    print("fake peer: told to die", file=sys.stderr)
    sys.exit(3)
graph = json.load(open(os.path.join(folder, "graph.json")))
rows = [{"node": c["node"], "relativeDifference": 0.0, "tolerance": c["tolerance"], "ok": True}
        for c in graph["checkpoints"]]
if mode == "disagree":
    rows[-1].update(relativeDifference=1.0, ok=False)
print(json.dumps({"runtime": "fake-" + runtime, "version": "0", "setupSeconds": 0.0,
                  "agrees": all(r["ok"] for r in rows), "agreement": rows}), flush=True)
for line in sys.stdin:
    words = line.split()
    if words == ["quit"]:
        break
    n = int(words[1])
    out = []
    for _ in range(n):
        start = time.perf_counter()
        time.sleep(0.01)
        out.append(time.perf_counter() - start)
    print(json.dumps({"seconds": out}), flush=True)
