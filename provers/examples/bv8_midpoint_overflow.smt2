; claim: for 8-bit unsigned lo <= hi, the midpoint (lo + hi) / 2 computed in 8 bits lies in [lo, hi]
; status: false (lo + hi overflows, the binary-search bug) -- expected: refuted
(set-logic QF_BV)
(declare-const lo (_ BitVec 8))
(declare-const hi (_ BitVec 8))
(define-fun mid () (_ BitVec 8) (bvudiv (bvadd lo hi) #x02))
(assert (bvule lo hi))
(assert (not (and (bvule lo mid) (bvule mid hi))))
(check-sat)
