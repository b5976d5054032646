"""Usage (from the repo root): python proxy.py REPORT.json RUNS.sqlite [REPORT RUNS ...]

Critique-stage proxy: for each flawed panel case, the best MiniLM cosine between an objection and a known flaw;
and whether the textbook entry (retrieval.json, fixed 2026-12-06) was shown to each critic."""
import json, sqlite3, sys
import numpy as np, yaml
from gauntlet.agents.corpus import embed
cases = {c['id']: c for c in yaml.safe_load(open('runs/evals/panel.yaml'))}
textbook = {r['case']: r['entry'] for r in json.load(open('runs/evals/results/library-2026-12-06/retrieval.json'))}
def arm(report, db):
    d = json.load(open(report)); c = sqlite3.connect(db); out = {}
    for case in d['per_case']:
        rid = list(case['arms']['panel']['runs'].values())[0]['run_id']
        crits = [(json.loads(dj), t) for dj, t in c.execute("select data_json, text from node where run_id=? and kind='critique'", (rid,))]
        ents = [e for dj, t in crits for e in dj.get('library_entries', [])]
        out[case['id']] = (crits, ents)
    return out
for report, db in zip(sys.argv[1::2], sys.argv[2::2]):
    a = arm(report, db); sims = []; tb = 0; n = 0; objs = sups = 0
    for cid, case in cases.items():
        if case.get('sound'):
            continue
        crits, ents = a[cid]
        o = [t for dj, t in crits if dj.get('critique_kind') != 'support']
        objs += len(o); sups += len(crits) - len(o)
        if o:
            m = embed(case['known_flaws'] + o); F = m[:len(case['known_flaws'])]; O = m[len(case['known_flaws']):]
            sims.append(float((O @ F.T).max()))
        else:
            sims.append(0.0)
        tb += textbook.get(cid) in ents
    s = np.array(sims)
    print(report, 'mean max sim %.3f, >=0.6: %d, >=0.5: %d of %d; objections %d supports %d; critiques shown textbook entry in %d cases'
          % (s.mean(), (s >= 0.6).sum(), (s >= 0.5).sum(), len(s), objs, sups, tb))
