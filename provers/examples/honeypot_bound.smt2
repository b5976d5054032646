; claim (demo debate): if each of 20 independent honeypots is detected with probability p <= 0.1,
;        all 20 go undetected with probability (1 - p)^20 >= 0.1
; status: true (0.9^20 = 0.1216…) -- expected: proved
(set-logic QF_NRA)
(declare-const p Real)
(define-fun q () Real (- 1.0 p))
(define-fun q2 () Real (* q q))
(define-fun q4 () Real (* q2 q2))
(define-fun q5 () Real (* q4 q))
(define-fun q10 () Real (* q5 q5))
(define-fun q20 () Real (* q10 q10))
(assert (and (>= p 0.0) (<= p 0.1)))
(assert (not (>= q20 0.1)))
(check-sat)
