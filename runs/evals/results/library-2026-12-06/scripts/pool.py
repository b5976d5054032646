"""Pool the per-case `gauntlet eval panel --library-arm` reports of runs/evals/results/library-2026-12-06."""
import json, sqlite3, sys
from pathlib import Path

root = Path(sys.argv[1])
cases = []
for d in sorted((root / "cases").iterdir()):
    f = d / "panel.json"
    if not f.exists():
        continue
    doc = json.loads(f.read_text())
    pc = doc["per_case"][0]
    case = pc.get("case") or {}
    arms = {}
    for arm, fig in (("library", doc), ("no_library", doc["no_library"])):
        unmatched = fig["unmatched_sustained"]
        arms[arm] = {"flaws": doc["flaws"], "found": fig["flaws_found"],
                     "shot_down": (fig["false_shootdown_rate"] or 0) if case.get("sound") else fig["shot_down_flawed"],
                     "unmatched": unmatched if isinstance(unmatched, int) else len(unmatched),
                     "status": (pc.get("statuses") or {}).get("panel" if arm == "library" else "no_library"),
                     "tokens": fig["tokens"], "time_s": fig["time_s"]}
    cites = None
    db = d / "runs.sqlite"
    if db.exists():  # sustained critiques of the library arm that cite a library entry
        con = sqlite3.connect(db)
        rows = con.execute("select payload from event where kind='node'").fetchall()
        crit = [json.loads(r[0]) for r in rows]
        crit = [c for c in crit if c.get("kind") == "critique"]
        cites = {"critiques": len(crit), "with_entries": sum(bool(c["data"].get("library_entries")) for c in crit),
                 "citing": sum(bool(c["data"].get("cites")) for c in crit),
                 "entries_cited": sorted({x["entry"] for c in crit for x in c["data"].get("cites") or []})}
    cases.append({"id": d.name, "sound": bool(case.get("sound")), "written": case.get("written") or "before-library",
                  "addresses": case.get("addresses", ""), "arms": arms, "critiques": cites})

def pooled(arm, sel):
    flawed = [c for c in sel if not c["sound"]]
    sound = [c for c in sel if c["sound"]]
    fl = sum(c["arms"][arm]["flaws"] for c in flawed)
    return {"flawed_cases": len(flawed), "flaws": fl, "flaws_found": sum(c["arms"][arm]["found"] for c in flawed),
            "flaw_recall": round(sum(c["arms"][arm]["found"] for c in flawed) / fl, 3) if fl else None,
            "flawed_shot_down": sum(c["arms"][arm]["shot_down"] for c in flawed),
            "sound_cases": len(sound), "sound_shot_down": sum(c["arms"][arm]["shot_down"] for c in sound),
            "false_shootdown_rate": round(sum(c["arms"][arm]["shot_down"] for c in sound) / len(sound), 3) if sound else None,
            "unmatched_sustained": sum(c["arms"][arm]["unmatched"] for c in sel),
            "tokens": sum(c["arms"][arm]["tokens"] for c in sel), "time_s": round(sum(c["arms"][arm]["time_s"] for c in sel), 1)}

summary = {"cases": [c["id"] for c in cases],
           "library": pooled("library", cases), "no_library": pooled("no_library", cases),
           "sound_after_library": {a: pooled(a, [c for c in cases if c["sound"] and c["written"] == "after-library"])
                                   for a in ("library", "no_library")},
           "sound_before_library": {a: pooled(a, [c for c in cases if c["sound"] and c["written"] != "after-library"])
                                    for a in ("library", "no_library")},
           "per_case": cases}
(root / "summary.json").write_text(json.dumps(summary, indent=2))
print(json.dumps({k: v for k, v in summary.items() if k != "per_case"}, indent=1))
