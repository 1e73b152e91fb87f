;; The 'host-ln' layer norms (./lngruStep.host.ts) as a WebAssembly SIMD module: the same two passes per
;; row and group as the JS loops there, four floats at a time. Assembled by `npm run build:wasm`
;; (scripts/build-wasm.ts) into ./lnHost.wasm-bytes.ts; tests/model/ln-host-wasm.test.ts checks the
;; bytes against this text and the results against the JS loops.
;;
;; Layer norm (Ba, Kiros & Hinton 2016) over the groups [0, 2H) and [2H, 3H) of each row of v [R, 3H]:
;;   out = xhat * gain + shift,  xhat = (v + bias - mean) * rstd,  rstd = 1 / sqrt(var + 1e-5)
;;   backward per group: dx = rstd (dout gain - mean(dout gain) - xhat mean(dout gain xhat)),
;;   d gain += sum over rows of dout xhat,  d shift += sum over rows of dout,
;;   d bias += sum over rows of dx (the bias added before the norm, b_ih or b_hh: summed in the pass that
;;   writes dx rather than by a [1, rows] product of its own).
;; A row's sums run in float64 (f64x2 over the promoted halves of each f32x4), as the JS loops' do; the
;; element-wise second passes and the backward's column sums over one call's rows run in float32 (the
;; caller adds them to its float64 totals). Pointers are byte offsets into this module's memory; j is
;; an element index (every array here is float32: base + 4 j).
(module
  (memory (export "memory") 1)

  ;; One group [j0, j1) of one row: out = v + bias with its sums, then xhat and out; returns rstd.
  (func $groupFwd (param $v i32) (param $bias i32) (param $gain i32) (param $shift i32) (param $out i32)
    (param $xhat i32) (param $j0 i32) (param $j1 i32) (result f64)
    (local $j i32) (local $a v128) (local $lo v128) (local $hi v128) (local $s v128) (local $q v128)
    (local $sd f64) (local $qd f64) (local $x f32) (local $n f64) (local $mean f64) (local $rs f64)
    (local $mf v128) (local $rf v128) (local $xh v128) (local $k i32)
    (local.set $n (f64.convert_i32_u (i32.sub (local.get $j1) (local.get $j0))))
    (local.set $s (f64x2.splat (f64.const 0)))
    (local.set $q (f64x2.splat (f64.const 0)))
    (local.set $j (local.get $j0))
    (block $done
      (loop $quad
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $a (f32x4.add (v128.load (i32.add (local.get $v) (local.get $k)))
                                 (v128.load (i32.add (local.get $bias) (local.get $k)))))
        (v128.store (i32.add (local.get $out) (local.get $k)) (local.get $a))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $a)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a))))
        (local.set $s (f64x2.add (local.get $s) (f64x2.add (local.get $lo) (local.get $hi))))
        (local.set $q (f64x2.add (local.get $q)
          (f64x2.add (f64x2.mul (local.get $lo) (local.get $lo)) (f64x2.mul (local.get $hi) (local.get $hi)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quad)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $x (f32.add (f32.load (i32.add (local.get $v) (local.get $k)))
                               (f32.load (i32.add (local.get $bias) (local.get $k)))))
        (f32.store (i32.add (local.get $out) (local.get $k)) (local.get $x))
        (local.set $sd (f64.add (local.get $sd) (f64.promote_f32 (local.get $x))))
        (local.set $qd (f64.add (local.get $qd)
          (f64.mul (f64.promote_f32 (local.get $x)) (f64.promote_f32 (local.get $x)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
    (local.set $mean (f64.div
      (f64.add (local.get $sd) (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))
      (local.get $n)))
    (local.set $rs (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.const 1e-5) (f64.max (f64.const 0)
      (f64.sub
        (f64.div (f64.add (local.get $qd) (f64.add (f64x2.extract_lane 0 (local.get $q))
                                                   (f64x2.extract_lane 1 (local.get $q))))
                 (local.get $n))
        (f64.mul (local.get $mean) (local.get $mean))))))))
    (local.set $mf (f32x4.splat (f32.demote_f64 (local.get $mean))))
    (local.set $rf (f32x4.splat (f32.demote_f64 (local.get $rs))))
    (local.set $j (local.get $j0))
    (block $done2
      (loop $quad2
        (br_if $done2 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $xh (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $out) (local.get $k))) (local.get $mf))
                                  (local.get $rf)))
        (v128.store (i32.add (local.get $xhat) (local.get $k)) (local.get $xh))
        (v128.store (i32.add (local.get $out) (local.get $k))
          (f32x4.add (f32x4.mul (local.get $xh) (v128.load (i32.add (local.get $gain) (local.get $k))))
                     (v128.load (i32.add (local.get $shift) (local.get $k)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quad2)))
    (block $tailDone2
      (loop $tail2
        (br_if $tailDone2 (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $x (f32.mul (f32.sub (f32.load (i32.add (local.get $out) (local.get $k)))
                                        (f32x4.extract_lane 0 (local.get $mf)))
                               (f32x4.extract_lane 0 (local.get $rf))))
        (f32.store (i32.add (local.get $xhat) (local.get $k)) (local.get $x))
        (f32.store (i32.add (local.get $out) (local.get $k))
          (f32.add (f32.mul (local.get $x) (f32.load (i32.add (local.get $gain) (local.get $k))))
                   (f32.load (i32.add (local.get $shift) (local.get $k)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail2)))
    (local.get $rs))

  ;; out = LN(v + bias) of every row and group of v [R, 3H]; xhat [R, 3H] and rstd [R, 2] for backward.
  (func (export "lnForward") (param $v i32) (param $bias i32) (param $gain i32) (param $shift i32)
    (param $out i32) (param $xhat i32) (param $rstd i32) (param $R i32) (param $H i32)
    (local $r i32) (local $o i32) (local $C i32)
    (local.set $C (i32.mul (local.get $H) (i32.const 3)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $o (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2)))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 3)))
          (f32.demote_f64 (call $groupFwd (i32.add (local.get $v) (local.get $o)) (local.get $bias)
            (local.get $gain) (local.get $shift) (i32.add (local.get $out) (local.get $o))
            (i32.add (local.get $xhat) (local.get $o)) (i32.const 0) (i32.shl (local.get $H) (i32.const 1)))))
        (f32.store (i32.add (local.get $rstd) (i32.add (i32.shl (local.get $r) (i32.const 3)) (i32.const 4)))
          (f32.demote_f64 (call $groupFwd (i32.add (local.get $v) (local.get $o)) (local.get $bias)
            (local.get $gain) (local.get $shift) (i32.add (local.get $out) (local.get $o))
            (i32.add (local.get $xhat) (local.get $o)) (i32.shl (local.get $H) (i32.const 1)) (local.get $C))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

;; Backward of one group [j0, j1) of one row: adds to this call's float32 column sums sg (dout xhat),
  ;; ss (dout) and sd (dx), writes dx. The row's own two sums run in float64.
  (func $groupBwd (param $dout i32) (param $xhat i32) (param $rs f64) (param $gain i32) (param $dx i32)
    (param $sg i32) (param $ss i32) (param $sd i32) (param $j0 i32) (param $j1 i32)
    (local $j i32) (local $k i32) (local $g v128) (local $x v128) (local $dg v128) (local $dgx v128)
    (local $a v128) (local $b v128) (local $ad f64) (local $bd f64) (local $n f64)
    (local $gs f32) (local $xs f32) (local $ds f32)
    (local $m1 v128) (local $m2 v128) (local $rf v128) (local $d v128) (local $df f32)
    (local.set $n (f64.convert_i32_u (i32.sub (local.get $j1) (local.get $j0))))
    (local.set $a (f64x2.splat (f64.const 0)))
    (local.set $b (f64x2.splat (f64.const 0)))
    (local.set $j (local.get $j0))
    (block $done
      (loop $quad
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $g (v128.load (i32.add (local.get $dout) (local.get $k))))
        (local.set $x (v128.load (i32.add (local.get $xhat) (local.get $k))))
        ;; d gain and d shift, columns j .. j + 3
        (v128.store (i32.add (local.get $sg) (local.get $k))
          (f32x4.add (v128.load (i32.add (local.get $sg) (local.get $k))) (f32x4.mul (local.get $g) (local.get $x))))
        (v128.store (i32.add (local.get $ss) (local.get $k))
          (f32x4.add (v128.load (i32.add (local.get $ss) (local.get $k))) (local.get $g)))
        ;; dxhat = dout gain, and its sums with and without xhat (float64)
        (local.set $dg (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $gain) (local.get $k)))))
        (local.set $dgx (f32x4.mul (local.get $dg) (local.get $x)))
        (local.set $a (f64x2.add (local.get $a)
          (f64x2.add (f64x2.promote_low_f32x4 (local.get $dg)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dg) (local.get $dg))))))
        (local.set $b (f64x2.add (local.get $b)
          (f64x2.add (f64x2.promote_low_f32x4 (local.get $dgx)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dgx) (local.get $dgx))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quad)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $dout) (local.get $k))))
        (local.set $xs (f32.load (i32.add (local.get $xhat) (local.get $k))))
        (f32.store (i32.add (local.get $sg) (local.get $k))
          (f32.add (f32.load (i32.add (local.get $sg) (local.get $k))) (f32.mul (local.get $gs) (local.get $xs))))
        (f32.store (i32.add (local.get $ss) (local.get $k))
          (f32.add (f32.load (i32.add (local.get $ss) (local.get $k))) (local.get $gs)))
        (local.set $ds (f32.mul (local.get $gs) (f32.load (i32.add (local.get $gain) (local.get $k)))))
        (local.set $ad (f64.add (local.get $ad) (f64.promote_f32 (local.get $ds))))
        (local.set $bd (f64.add (local.get $bd) (f64.promote_f32 (f32.mul (local.get $ds) (local.get $xs)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
    (local.set $m1 (f32x4.splat (f32.demote_f64 (f64.div
      (f64.add (local.get $ad) (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
      (local.get $n)))))
    (local.set $m2 (f32x4.splat (f32.demote_f64 (f64.div
      (f64.add (local.get $bd) (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b))))
      (local.get $n)))))
    (local.set $rf (f32x4.splat (f32.demote_f64 (local.get $rs))))
    ;; dx = rstd (dout gain - m1 - xhat m2), in float32, and its column sums
    (local.set $j (local.get $j0))
    (block $done2
      (loop $quad2
        (br_if $done2 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $d
          (f32x4.mul (local.get $rf)
            (f32x4.sub
              (f32x4.sub (f32x4.mul (v128.load (i32.add (local.get $dout) (local.get $k)))
                                    (v128.load (i32.add (local.get $gain) (local.get $k))))
                         (local.get $m1))
              (f32x4.mul (v128.load (i32.add (local.get $xhat) (local.get $k))) (local.get $m2)))))
        (v128.store (i32.add (local.get $dx) (local.get $k)) (local.get $d))
        (v128.store (i32.add (local.get $sd) (local.get $k))
          (f32x4.add (v128.load (i32.add (local.get $sd) (local.get $k))) (local.get $d)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quad2)))
    (block $tailDone2
      (loop $tail2
        (br_if $tailDone2 (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $k (i32.shl (local.get $j) (i32.const 2)))
        (local.set $df
          (f32.mul (f32x4.extract_lane 0 (local.get $rf))
            (f32.sub
              (f32.sub (f32.mul (f32.load (i32.add (local.get $dout) (local.get $k)))
                                (f32.load (i32.add (local.get $gain) (local.get $k))))
                       (f32x4.extract_lane 0 (local.get $m1)))
              (f32.mul (f32.load (i32.add (local.get $xhat) (local.get $k))) (f32x4.extract_lane 0 (local.get $m2))))))
        (f32.store (i32.add (local.get $dx) (local.get $k)) (local.get $df))
        (f32.store (i32.add (local.get $sd) (local.get $k))
          (f32.add (f32.load (i32.add (local.get $sd) (local.get $k))) (local.get $df)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail2))))

  ;; Backward over all rows of dout [R, 3H]: dx [R, 3H]; adds to the float32 sums sg, ss, sd [3H].
  (func (export "lnBackward") (param $dout i32) (param $xhat i32) (param $rstd i32) (param $gain i32)
    (param $dx i32) (param $sg i32) (param $ss i32) (param $sd i32) (param $R i32) (param $H i32)
    (local $r i32) (local $o i32) (local $C i32)
    (local.set $C (i32.mul (local.get $H) (i32.const 3)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $R)))
        (local.set $o (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2)))
        (call $groupBwd (i32.add (local.get $dout) (local.get $o)) (i32.add (local.get $xhat) (local.get $o))
          (f64.promote_f32 (f32.load (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 3)))))
          (local.get $gain) (i32.add (local.get $dx) (local.get $o)) (local.get $sg) (local.get $ss) (local.get $sd)
          (i32.const 0) (i32.shl (local.get $H) (i32.const 1)))
        (call $groupBwd (i32.add (local.get $dout) (local.get $o)) (i32.add (local.get $xhat) (local.get $o))
          (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 3)))))
          (local.get $gain) (i32.add (local.get $dx) (local.get $o)) (local.get $sg) (local.get $ss) (local.get $sd)
          (i32.shl (local.get $H) (i32.const 1)) (local.get $C))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))))
