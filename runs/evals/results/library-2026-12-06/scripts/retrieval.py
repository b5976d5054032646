"""Model-free: where retrieval ranks each flawed panel case's textbook entry, with and without a critic's
discipline bias (the three critics of eval-panel.yaml)."""
import json, sys
import yaml
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from check_eval import APPLIES
from gauntlet.agents import failure_modes as fm
from gauntlet.agents.persona import library as personas

lib = fm.load()
cases = {c["id"]: c for c in yaml.safe_load(open("runs/evals/panel.yaml"))}
crit = {p: personas()[p].discipline for p in ("security-engineer", "agent-foundations-theorist", "ml-empiricist")}
rows = []
pairs = list(APPLIES.items()) + [(c["id"], c["addresses"]) for c in cases.values() if c.get("addresses")]
for cid, eid in pairs:
    text = "\n".join(x for x in (cases[cid].get("title", ""), cases[cid]["proposal"]) if x)
    ranks = {}
    for who, disc in [("none", "")] + list(crit.items()):
        ids = [e.id for e, _ in lib.search(text, len(lib.entries), discipline=disc)]
        ranks[who] = ids.index(eid) + 1
    rows.append({"case": cid, "entry": eid, "sound": bool(cases[cid].get("sound")), "rank": ranks})
for kind in (False, True):
    sel = [r for r in rows if r["sound"] == kind]
    print("sound controls (entry they escape)" if kind else "flawed cases (textbook entry)", len(sel))
    for who in ("none", *crit):
        rk = [r["rank"][who] for r in sel]
        print(f"  {who:28s} top1 {sum(x == 1 for x in rk)}  top3 {sum(x <= 3 for x in rk)}  median rank {sorted(rk)[len(rk)//2]}")
json.dump(rows, open("runs/evals/results/library-2026-12-06/retrieval.json", "w"), indent=1)
