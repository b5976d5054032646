import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
runs = [r[0] for r in con.execute("select distinct run_id from event")]
for rid in runs:
    print("RUN", rid)
    for (kind, payload) in con.execute("select kind, payload from event where run_id=? and kind in ('node','llm_call') order by seq", (rid,)):
        p = json.loads(payload)
        if kind == "llm_call":
            if p.get("library_checks"):
                for c in p["library_checks"]: print("   check", p["persona"], c["entry"], c["p"], c["accepted"], c["margin"])
            continue
        d = p["data"]
        if p["kind"] == "critique":
            print(" CRIT", p["persona"], d.get("severity"), d.get("flaw_type"), "| anchor:", (d.get("anchor") or "")[:60], "|", p["text"][:300], "| entries", d.get("library_entries"), "cites", sorted({c["entry"] for c in d.get("cites", [])}))
        elif p["kind"] == "ruling":
            print(" RULING", d.get("outcome"), [(v.get("juror"), v.get("vote"), v.get("p_sustained"), v.get("accepted")) for v in d.get("votes", [])], [a.get("abstained") if isinstance(a, dict) else a for a in d.get("abstained", [])])
        elif p["kind"] == "rebuttal":
            print(" REB", d.get("action"), p["text"][:120])
