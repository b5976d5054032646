; claim: for every real x, x * x >= x
; status: false (0 < x < 1) -- expected: refuted
(set-logic QF_NRA)
(declare-const x Real)
(assert (not (>= (* x x) x)))
(check-sat)
