; claim: for 8-bit unsigned x, y, the test (x + y) <u x detects overflow exactly:
;        it holds iff the true sum x + y (computed in 9 bits) is >= 256
; status: true -- expected: proved
(set-logic QF_BV)
(declare-const x (_ BitVec 8))
(declare-const y (_ BitVec 8))
(define-fun wide () (_ BitVec 9) (bvadd ((_ zero_extend 1) x) ((_ zero_extend 1) y)))
(assert (not (= (bvult (bvadd x y) x) (bvuge wide #b100000000))))
(check-sat)
