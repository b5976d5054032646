"""A rulings-format file of (panel case, library entry) pairs: the entry's statement as the critique, the proposal's
sentence nearest to it as the anchor. Pairs as in runs/evals/results/library-2026-12-06/scripts/check_eval.py
(chosen before any check ran): 12 flawed cases x their textbook entry (sustained), 6 after-library sound controls
x the entry they address (overruled)."""
import re, sys, yaml, numpy as np
sys.path.insert(0, 'runs/evals/results/library-2026-12-06/scripts')
from check_eval import APPLIES
from gauntlet.agents import failure_modes as fm
emb = fm._default_embed()
cases = {c["id"]: c for c in yaml.safe_load(open("runs/evals/panel.yaml"))}
lib = fm.load()
pairs = [(cid, eid, True) for cid, eid in APPLIES.items()]
pairs += [(c["id"], c["addresses"], False) for c in cases.values() if c.get("addresses")]
items = []
for cid, eid, truth in pairs:
    c = cases[cid]; e = lib.get(eid)
    prop = " ".join(c["proposal"].split())
    sents = [s.strip() for s in re.split(r"(?<=[.;])\s+", prop) if len(s.split()) >= 4]
    m = emb([e.statement] + sents)
    anchor = sents[int(np.argmax(m[1:] @ m[0]))]
    items.append({"id": f"{cid}--{eid}", "split": "test", "kind": "real_flaw" if truth else "already_answered",
                  "label": "sustained" if truth else "overruled", "proposal": prop, "anchor": anchor,
                  "critique": " ".join(e.statement.split()), "source": f"library entry {eid}"})
yaml.safe_dump(items, open(sys.argv[1], "w"), sort_keys=False, width=120)
print(len(items))
