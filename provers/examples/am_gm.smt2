; claim: for all reals a, b: a^2 + b^2 >= 2ab (two-variable AM-GM)
; status: true -- expected: proved
(set-logic QF_NRA)
(declare-const a Real)
(declare-const b Real)
(assert (not (>= (+ (* a a) (* b b)) (* 2.0 a b))))
(check-sat)
