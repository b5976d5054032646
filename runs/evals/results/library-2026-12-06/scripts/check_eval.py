"""Applicability check on the embedded model: each flawed panel case against the library entry naming its
textbook flaw (should apply), each after-library sound control against the entry it addresses (should not)."""
import asyncio, json, sys, time
from pathlib import Path
import yaml
from gauntlet.agents import failure_modes as fm
from gauntlet.agents.backends import make_llm
from gauntlet.config import ModelConfig
from gauntlet.metrics import auc

APPLIES = {"rlhf-reward-model": "reward-model-overoptimisation", "debate-honest-equilibrium": "obfuscated-arguments",
           "shutdown-button": "shutdown-problem", "ai-boxing": "boxed-oracle-manipulation",
           "honeypot-tests": "test-deployment-distinction", "adversarial-training-deception": "sleeper-agents",
           "impact-penalty": "impact-penalty-offsetting", "lie-detector-probe": "training-against-detector",
           "iterated-amplification": "distillation-error-compounding",
           "constitutional-self-critique": "self-critique-blind-spots", "inverse-rl-values": "irl-unidentifiability",
           "myopia": "myopia-not-guaranteed"}

async def main(out: str) -> None:
    cases = {c["id"]: c for c in yaml.safe_load(open("runs/evals/panel.yaml"))}
    lib = fm.load()
    pairs = [(cid, eid, True) for cid, eid in APPLIES.items()]
    pairs += [(c["id"], c["addresses"], False) for c in cases.values() if c.get("addresses")]
    llm = make_llm(ModelConfig(), seed=0)
    rows = []
    try:
        for cid, eid, truth in pairs:
            c = cases[cid]
            text = "\n".join(p for p in (c.get("title", ""), c["proposal"]) if p)
            t0 = time.perf_counter()
            a = await fm.check(llm, lib.get(eid), text, threshold=0.5, seed=11)
            rows.append({"case": cid, "entry": eid, "applies": truth, **a.record(),
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        await llm.aclose()
    yes = [r for r in rows if r["applies"]]
    no = [r for r in rows if not r["applies"]]
    doc = {"model": llm.name, "pairs": len(rows), "auc": auc([r["p"] for r in rows], [r["applies"] for r in rows]),
           "accepted_when_applies": sum(r["accepted"] for r in yes), "applies": len(yes),
           "accepted_when_escaped": sum(r["accepted"] for r in no), "escaped": len(no),
           "threshold": 0.5, "seconds_per_check": round(sum(r["seconds"] for r in rows) / max(1, len(rows)), 1),
           "rows": rows}
    Path(out).write_text(json.dumps(doc, indent=2))
    print(json.dumps({k: v for k, v in doc.items() if k != "rows"}))

if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
