# Measures the run file on a large synthetic log (no model): python runs/examples/bench_run_file.py 100000
"""Run-file throughput on a large synthetic log: N node+edge events appended through Store.append, then
export (gzip) -> import into a fresh SQLite database -> export again; times, size, peak RSS."""
import resource, sys, tempfile, time
from pathlib import Path
from gauntlet.graphs.store.store import NewEvent, Store
from gauntlet.graphs.store import run_file
from gauntlet.graphs.store.run_import import import_file
N = int(sys.argv[1]); d = Path(tempfile.mkdtemp(prefix="gauntlet-rf-"))  # scratch databases and files
src = Store(str(d / "src.sqlite"))
src.create_run("big", topic="t", config={"panel": {}}, source="x", seed=0, model="m", personas=[])
evs = []
for i in range(N // 2):
    evs.append(NewEvent(key=f"node/n{i}", kind="node", payload={"id": f"n{i}", "kind": "critique", "persona": "p",
                        "round": 1, "title": "", "text": "word " * 40, "data": {"severity": "major"}}, round=1))
    evs.append(NewEvent(key=f"edge/n{i}", kind="edge", payload={"src": f"n{i}", "dst": "n0", "kind": "attacks"}))
for i in range(0, len(evs), 5000):
    src.append("big", evs[i:i + 5000])
src.set_status("big", "done")
t = time.perf_counter(); end = run_file.write_file(src, "big", d / "big.run.jsonl.gz"); te = time.perf_counter() - t
dst = Store(str(d / "dst.sqlite"))
t = time.perf_counter(); import_file(dst, d / "big.run.jsonl.gz"); ti = time.perf_counter() - t
run_file.write_file(dst, "big", d / "again.run.jsonl.gz")
same = (d / "big.run.jsonl.gz").read_bytes() == (d / "again.run.jsonl.gz").read_bytes()
print({"events": end["events"], "export_s": round(te, 2), "import_s": round(ti, 2),
       "file_kb": (d / "big.run.jsonl.gz").stat().st_size // 1024, "same_bytes": same,
       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024})
