;; The host-fused order-violation energy and its gradients (./orderViolation.ts) as a WebAssembly SIMD
;; module, four floats at a time. Assembled by `npm run build:wasm` (scripts/build-wasm.ts) into
;; ./ovHost.wasm-bytes.ts; tests/model/ov-host-wasm.test.ts checks the bytes against this text and the
;; results against the JS loops.
;;
;;   E[i, j] = sum_k relu(c[j, k] - im[i, k])^2                      images im [N, D], captions c [M, D]
;;   dIm[i, k] = -sum_j g[i, j] 2 relu(c[j, k] - im[i, k]),   dC[j, k] = sum_i g[i, j] 2 relu(...)
;;
;; relu(d) is f32x4.pmax(d, 0) = (d < 0 ? 0 : d): one maxps, and a NaN stays NaN (as in the JS loops'
;; d + |d|), so a diverged embedding still gives a non-finite loss. The caller pads: rows of im and c
;; have Dp = D rounded up to 4 floats (the padding is 0, so it adds relu(0)^2 = 0), c has M rounded up
;; to 4 rows and im N rounded up to 2 (zero rows, whose energies and gradients are dropped), so there
;; are no scalar tails. Pointers are byte offsets into this module's memory.
;;
;; Precision: d and d^2 are float32 (one rounding each, a relative error of at most ~1.5 ulp per term,
;; all terms being >= 0); each lane sums at most 16 of them in float32 and those partial sums are
;; added in float64 (f64x2 over the promoted halves), so the result is within a few float32 ulps of
;; the JS loops' float64 sums whatever D. The gradients accumulate in float32 memory, as the JS loops'
;; Float32Array += does.
(module
  (memory (export "memory") 1)

  ;; E [Np, M] (row stride M floats) for im [Np, Dp], c [M, Dp]; Np even, M and Dp multiples of 4.
  ;; Tiles of 2 images x 4 captions (8 float32x4 sums in registers: each loaded image vector serves 4
  ;; captions and each caption vector 2 images); captions in blocks of jb rows (a multiple of 4, chosen by
  ;; the caller to fit in L2) so that a block is read from cache by every image pair rather than
  ;; streamed from memory N / 2 times.
  (func (export "ovForward") (param $im i32) (param $c i32) (param $E i32) (param $N i32) (param $M i32)
    (param $D i32) (param $jb i32)
    (local $rowB i32) (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32) (local $k i32)
    (local $kb i32) (local $a0 i32) (local $a1 i32) (local $c0 i32) (local $c1 i32) (local $c2 i32)
    (local $c3 i32) (local $e i32)
    (local $x0 v128) (local $x1 v128) (local $y v128) (local $d v128) (local $z v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $t00 v128) (local $t01 v128) (local $t02 v128) (local $t03 v128)
    (local $t10 v128) (local $t11 v128) (local $t12 v128) (local $t13 v128)
    (local.set $rowB (i32.shl (local.get $D) (i32.const 2)))
    (block $jbDone
      (loop $jBlock
        (br_if $jbDone (i32.ge_u (local.get $j0) (local.get $M)))
        (local.set $j1 (select (local.get $M) (i32.add (local.get $j0) (local.get $jb))
          (i32.gt_u (i32.add (local.get $j0) (local.get $jb)) (local.get $M))))
        (local.set $i (i32.const 0))
        (block $iDone
          (loop $iPair
            (br_if $iDone (i32.ge_u (local.get $i) (local.get $N)))
            (local.set $a0 (i32.add (local.get $im) (i32.mul (local.get $i) (local.get $rowB))))
            (local.set $a1 (i32.add (local.get $a0) (local.get $rowB)))
            (local.set $j (local.get $j0))
            (block $jDone
              (loop $jQuad
                (br_if $jDone (i32.ge_u (local.get $j) (local.get $j1)))
                (local.set $c0 (i32.add (local.get $c) (i32.mul (local.get $j) (local.get $rowB))))
                (local.set $c1 (i32.add (local.get $c0) (local.get $rowB)))
                (local.set $c2 (i32.add (local.get $c1) (local.get $rowB)))
                (local.set $c3 (i32.add (local.get $c2) (local.get $rowB)))
                (local.set $t00 (v128.const i64x2 0 0)) (local.set $t01 (v128.const i64x2 0 0))
                (local.set $t02 (v128.const i64x2 0 0)) (local.set $t03 (v128.const i64x2 0 0))
                (local.set $t10 (v128.const i64x2 0 0)) (local.set $t11 (v128.const i64x2 0 0))
                (local.set $t12 (v128.const i64x2 0 0)) (local.set $t13 (v128.const i64x2 0 0))
                (local.set $k (i32.const 0))
                (block $kDone
                  (loop $kBlock
                    (br_if $kDone (i32.ge_u (local.get $k) (local.get $rowB)))
                    ;; 16 vectors (64 floats) per block, summed in float32
                    (local.set $kb (select (local.get $rowB) (i32.add (local.get $k) (i32.const 256))
                      (i32.gt_u (i32.add (local.get $k) (i32.const 256)) (local.get $rowB))))
                    (local.set $s00 (local.get $z)) (local.set $s01 (local.get $z))
                    (local.set $s02 (local.get $z)) (local.set $s03 (local.get $z))
                    (local.set $s10 (local.get $z)) (local.set $s11 (local.get $z))
                    (local.set $s12 (local.get $z)) (local.set $s13 (local.get $z))
                    (loop $kVec
                      (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $k))))
                      (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $k))))
                      (local.set $y (v128.load (i32.add (local.get $c0) (local.get $k))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x0)) (local.get $z)))
                      (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x1)) (local.get $z)))
                      (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $y (v128.load (i32.add (local.get $c1) (local.get $k))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x0)) (local.get $z)))
                      (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x1)) (local.get $z)))
                      (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $y (v128.load (i32.add (local.get $c2) (local.get $k))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x0)) (local.get $z)))
                      (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x1)) (local.get $z)))
                      (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $y (v128.load (i32.add (local.get $c3) (local.get $k))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x0)) (local.get $z)))
                      (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $d (f32x4.pmax (f32x4.sub (local.get $y) (local.get $x1)) (local.get $z)))
                      (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $d) (local.get $d))))
                      (local.set $k (i32.add (local.get $k) (i32.const 16)))
                      (br_if $kVec (i32.lt_u (local.get $k) (local.get $kb))))
                    ;; the block's float32 sums into the float64 totals: t += lo + hi (f64x2)
                    (local.set $t00 (f64x2.add (local.get $t00) (call $wide (local.get $s00))))
                    (local.set $t01 (f64x2.add (local.get $t01) (call $wide (local.get $s01))))
                    (local.set $t02 (f64x2.add (local.get $t02) (call $wide (local.get $s02))))
                    (local.set $t03 (f64x2.add (local.get $t03) (call $wide (local.get $s03))))
                    (local.set $t10 (f64x2.add (local.get $t10) (call $wide (local.get $s10))))
                    (local.set $t11 (f64x2.add (local.get $t11) (call $wide (local.get $s11))))
                    (local.set $t12 (f64x2.add (local.get $t12) (call $wide (local.get $s12))))
                    (local.set $t13 (f64x2.add (local.get $t13) (call $wide (local.get $s13))))
                    (br $kBlock)))
                ;; E[i, j .. j + 3] and E[i + 1, j .. j + 3]
                (local.set $e (i32.add (local.get $E)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $M)) (local.get $j)) (i32.const 2))))
                (f32.store offset=0 (local.get $e) (call $total (local.get $t00)))
                (f32.store offset=4 (local.get $e) (call $total (local.get $t01)))
                (f32.store offset=8 (local.get $e) (call $total (local.get $t02)))
                (f32.store offset=12 (local.get $e) (call $total (local.get $t03)))
                (local.set $e (i32.add (local.get $e) (i32.shl (local.get $M) (i32.const 2))))
                (f32.store offset=0 (local.get $e) (call $total (local.get $t10)))
                (f32.store offset=4 (local.get $e) (call $total (local.get $t11)))
                (f32.store offset=8 (local.get $e) (call $total (local.get $t12)))
                (f32.store offset=12 (local.get $e) (call $total (local.get $t13)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $jQuad)))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $iPair)))
        (local.set $j0 (local.get $j1))
        (br $jBlock))))

  ;; The four float32 lanes of s as two float64 pairs added: (s0 + s2, s1 + s3).
  (func $wide (param $s v128) (result v128)
    (f64x2.add (f64x2.promote_low_f32x4 (local.get $s))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))

  ;; A float64 pair's sum as float32.
  (func $total (param $t v128) (result f32)
    (f32.demote_f64 (f64.add (f64x2.extract_lane 0 (local.get $t)) (f64x2.extract_lane 1 (local.get $t)))))

  ;; Adds the gradients of sum(g * E) to dIm [N, Dp] and dC [M, Dp] (the caller zeroes them) for
  ;; g [N, M] (row stride M floats, a multiple of 4; its padding columns are 0). A quad of captions
  ;; whose four weights are all 0 is skipped (the contrastive loss' g is mostly zeros).
  (func (export "ovBackward") (param $im i32) (param $c i32) (param $g i32) (param $dIm i32) (param $dC i32)
    (param $N i32) (param $M i32) (param $D i32)
    (local $rowB i32) (local $i i32) (local $j i32) (local $k i32) (local $a i32) (local $da i32)
    (local $gr i32) (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $e0 i32) (local $e1 i32) (local $e2 i32) (local $e3 i32)
    (local $w v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $x v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $z v128)
    (local.set $rowB (i32.shl (local.get $D) (i32.const 2)))
    (block $iDone
      (loop $iRow
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $N)))
        (local.set $a (i32.add (local.get $im) (i32.mul (local.get $i) (local.get $rowB))))
        (local.set $da (i32.add (local.get $dIm) (i32.mul (local.get $i) (local.get $rowB))))
        (local.set $gr (i32.add (local.get $g) (i32.shl (i32.mul (local.get $i) (local.get $M)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $jDone
          (loop $jQuad
            (br_if $jDone (i32.ge_u (local.get $j) (local.get $M)))
            (local.set $w (v128.load (i32.add (local.get $gr) (i32.shl (local.get $j) (i32.const 2)))))
            (if (v128.any_true (f32x4.ne (local.get $w) (local.get $z)))
              (then
                ;; 2 g per caption (d + |d| = 2 relu(d) in the JS loop), splatted
                (local.set $w (f32x4.add (local.get $w) (local.get $w)))
                (local.set $w0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w) (local.get $w)))
                (local.set $w1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w) (local.get $w)))
                (local.set $w2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w) (local.get $w)))
                (local.set $w3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w) (local.get $w)))
                (local.set $c0 (i32.mul (local.get $j) (local.get $rowB)))
                (local.set $e0 (i32.add (local.get $dC) (local.get $c0)))
                (local.set $c0 (i32.add (local.get $c) (local.get $c0)))
                (local.set $c1 (i32.add (local.get $c0) (local.get $rowB)))
                (local.set $c2 (i32.add (local.get $c1) (local.get $rowB)))
                (local.set $c3 (i32.add (local.get $c2) (local.get $rowB)))
                (local.set $e1 (i32.add (local.get $e0) (local.get $rowB)))
                (local.set $e2 (i32.add (local.get $e1) (local.get $rowB)))
                (local.set $e3 (i32.add (local.get $e2) (local.get $rowB)))
                (local.set $k (i32.const 0))
                (loop $kVec
                  (local.set $x (v128.load (i32.add (local.get $a) (local.get $k))))
                  (local.set $t0 (f32x4.mul (local.get $w0)
                    (f32x4.pmax (f32x4.sub (v128.load (i32.add (local.get $c0) (local.get $k))) (local.get $x)) (local.get $z))))
                  (local.set $t1 (f32x4.mul (local.get $w1)
                    (f32x4.pmax (f32x4.sub (v128.load (i32.add (local.get $c1) (local.get $k))) (local.get $x)) (local.get $z))))
                  (local.set $t2 (f32x4.mul (local.get $w2)
                    (f32x4.pmax (f32x4.sub (v128.load (i32.add (local.get $c2) (local.get $k))) (local.get $x)) (local.get $z))))
                  (local.set $t3 (f32x4.mul (local.get $w3)
                    (f32x4.pmax (f32x4.sub (v128.load (i32.add (local.get $c3) (local.get $k))) (local.get $x)) (local.get $z))))
                  (v128.store (i32.add (local.get $e0) (local.get $k))
                    (f32x4.add (v128.load (i32.add (local.get $e0) (local.get $k))) (local.get $t0)))
                  (v128.store (i32.add (local.get $e1) (local.get $k))
                    (f32x4.add (v128.load (i32.add (local.get $e1) (local.get $k))) (local.get $t1)))
                  (v128.store (i32.add (local.get $e2) (local.get $k))
                    (f32x4.add (v128.load (i32.add (local.get $e2) (local.get $k))) (local.get $t2)))
                  (v128.store (i32.add (local.get $e3) (local.get $k))
                    (f32x4.add (v128.load (i32.add (local.get $e3) (local.get $k))) (local.get $t3)))
                  (v128.store (i32.add (local.get $da) (local.get $k))
                    (f32x4.sub (v128.load (i32.add (local.get $da) (local.get $k)))
                      (f32x4.add (f32x4.add (local.get $t0) (local.get $t1)) (f32x4.add (local.get $t2) (local.get $t3)))))
                  (local.set $k (i32.add (local.get $k) (i32.const 16)))
                  (br_if $kVec (i32.lt_u (local.get $k) (local.get $rowB))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jQuad)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iRow)))))
