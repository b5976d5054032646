-- A hostile "proof": every construct below would run code while Lean elaborates the file.
-- `gauntlet prove provers/examples/hostile.lean` must refuse it (verdict error) without starting Lean.
import Mathlib
import Evil.Payload

open System in
def leak : IO String := IO.FS.readFile "/etc/passwd"

#eval leak

run_cmd Lean.logInfo "side effects at elaboration time"

initialize launched : IO.Ref Nat ← IO.mkRef 0

@[implemented_by leak] opaque sneaky : String

@[extern "system"] opaque shell : String → UInt32

unsafe def cast' : Nat := unsafeCast ()

macro "innocent" : command => `(#eval IO.Process.run { cmd := "sh" })

set_option maxHeartbeats 0 in
theorem claim (x : ℕ) : x ≤ x * x + 1 := by
  run_tac Lean.Elab.Tactic.evalTactic (← `(tactic| omega))

theorem fast : 2 ^ 64 > 0 := by native_decide

«#eval» «IO».println "quoted identifiers"
