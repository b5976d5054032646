; claim: for every real x >= -1, x^3 >= x
; status: false (e.g. x = 1/2) -- expected: refuted
(set-logic QF_NRA)
(declare-const x Real)
(assert (>= x (- 1.0)))
(assert (not (>= (* x x x) x)))
(check-sat)
