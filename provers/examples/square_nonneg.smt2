; claim: for every real x, x * x >= 0
; status: true -- expected: proved
(set-logic QF_NRA)
(declare-const x Real)
(assert (not (>= (* x x) 0.0)))
(check-sat)
