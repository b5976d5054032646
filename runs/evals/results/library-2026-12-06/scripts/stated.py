"""Post-hoc, on the runs the library eval kept (--db per case): which known flaws an anchored critique states
(whatever its ruling), judged by the panel eval's own narrow flaw judge, per arm; and for the sound controls, the
anchored fatal/major critiques and those citing the library entry the control escapes (decoys)."""
import asyncio, json, sys
from pathlib import Path
import yaml
from gauntlet.agents.backends import make_llm
from gauntlet.config import ModelConfig
from gauntlet.graphs.argument.rulings import attack_fields
from gauntlet.graphs.evals.flaw_judge import candidate_pairs, embedding_similarity, states
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph

def anchored(graph):
    out = []
    for e in graph.edges:
        n = graph.nodes[e.src]
        if e.kind == "attacks" and n.kind == "critique":
            f = attack_fields(n, e.dst, graph.rulings)
            out.append({"id": n.id, "persona": n.persona, "text": n.text, "anchor": n.data.get("anchor", ""),
                        "severity": n.data.get("severity"), "ruling": f.get("ruling"),
                        "cites": sorted({c["entry"] for c in n.data.get("cites") or []})})
    return out

async def main(root: Path) -> None:
    cases = {c["id"]: c for c in yaml.safe_load(open("runs/evals/panel.yaml"))}
    sim = embedding_similarity()
    llm = make_llm(ModelConfig(), seed=0)
    rows = []
    try:
        for d in sorted((root / "cases").iterdir()):
            rep, db = d / "panel.json", d / "runs.sqlite"
            if not rep.exists() or not db.exists():
                continue
            doc = json.loads(rep.read_text())
            arms = doc["per_case"][0]["arms"]
            case = cases[d.name]
            store = Store(str(db))
            for arm, a in arms.items():
                for seed, r in a["runs"].items():
                    crit = anchored(load_graph(store, r["run_id"]))
                    row = {"case": d.name, "arm": arm, "seed": seed, "sound": bool(case.get("sound")),
                           "written": case.get("written", "before-library"), "status": r["status"],
                           "anchored": len(crit), "citing": sum(bool(c["cites"]) for c in crit)}
                    if case.get("sound"):
                        serious = [c for c in crit if c["severity"] in ("fatal", "major")]
                        row.update(serious=len(serious),
                                   decoys=sum(case.get("addresses", "") in c["cites"] for c in serious),
                                   sustained=sum(c["ruling"] == "sustained" for c in serious))
                    else:
                        flaws = case["known_flaws"]
                        found = set()
                        for i, j, s in candidate_pairs(flaws, crit, sim):
                            fm, _ = await states(llm, flaws[i], crit[j], 11 + 101 * i + j)
                            if fm is not None and fm.states_flaw:
                                found.add(i)
                        row.update(flaws=len(flaws), stated=len(found))
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        await llm.aclose()
    out = {}
    for arm in ("panel", "no_library"):
        fl = [r for r in rows if r["arm"] == arm and not r["sound"]]
        so = [r for r in rows if r["arm"] == arm and r["sound"]]
        out[arm] = {"flawed_runs": len(fl), "flaws": sum(r["flaws"] for r in fl),
                    "flaws_stated": sum(r["stated"] for r in fl),
                    "stated_recall": round(sum(r["stated"] for r in fl) / max(1, sum(r["flaws"] for r in fl)), 3),
                    "sound_runs": len(so), "sound_with_serious_critique": sum(r["serious"] > 0 for r in so),
                    "decoy_critiques": sum(r["decoys"] for r in so),
                    "citing_critiques": sum(r["citing"] for r in rows if r["arm"] == arm),
                    "anchored_critiques": sum(r["anchored"] for r in rows if r["arm"] == arm)}
    (root / "stated.json").write_text(json.dumps({"figures": out, "rows": rows}, indent=2))
    print(json.dumps(out, indent=1))

asyncio.run(main(Path(sys.argv[1])))
