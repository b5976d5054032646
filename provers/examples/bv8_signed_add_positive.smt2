; claim: for 8-bit signed integers x, y > 0, x + y > 0
; status: false (signed overflow, e.g. 100 + 100 = -56) -- expected: refuted
(set-logic QF_BV)
(declare-const x (_ BitVec 8))
(declare-const y (_ BitVec 8))
(assert (bvsgt x #x00))
(assert (bvsgt y #x00))
(assert (not (bvsgt (bvadd x y) #x00)))
(check-sat)
