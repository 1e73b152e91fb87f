;; The matrix product C = A B of the wasm backend's matMul (./matmul-host.ts) as a WebAssembly SIMD
;; module on tfjs's own memory (imported), for the single-threaded wasm build. Assembled by
;; `npm run build:wasm` (scripts/build-wasm.ts) into ./matmulHost.wasm-bytes.ts in two builds: this text,
;; whose multiply-adds are relaxed SIMD's f32x4.relaxed_madd (one fused multiply-add where the CPU has
;; FMA), and a plain build for runtimes without relaxed SIMD, each madd written as f32x4.mul then
;; f32x4.add (scripts/lib/host-wasm.ts plainMaddVariant). tests/model/matmul-host-wasm.test.ts checks
;; the bytes against this text and the products against tfjs's XNNPACK kernel.
;;
;;   C[i, j] = sum_k A[i, k] B[k, j],  summed k = 0, 1, ..., K - 1 into one float32 lane per (i, j)
;;
;; Every C[i, j] is the same sequence of operations whatever M, N and the row's place in a block (the
;; 4-row and 1-row loops do the same madds in the same order), so a row's product does not depend on
;; the rows beside it: a batch's row equals that row multiplied alone, bit for bit. V8 lowers
;; relaxed_madd the same way in both of its compilers (Liftoff and TurboFan: checked with
;; --liftoff-only and --no-liftoff), so digits do not change when a function tiers up.
;;
;; Tiles of 4 rows x 8 columns: per k, two vector loads of B, four splats of A and eight madds, with the
;; 8 sums, 2 B vectors and 1 splat in 11 of x64's 16 vector registers. B is repacked into panels of 8
;; columns first (one pass over B) so the inner loop reads it contiguously: B read in place strides
;; N floats per k, which for N = 3072 ran at 10 GFLOP/s against 45 packed (cache-set conflicts).
;; Pointers are byte offsets into the imported memory. N need not be a multiple of 8: the last panel
;; is padded with zero columns and its rows stored through a scratch (so every column of C, like every
;; row, is computed the same way whatever N is).
(module
  (import "env" "memory" (memory 1))
  ;; Panels of B [K, N]: bp[p][k][0..8) = B[k][8p .. 8p+8), panel p at bp + 32 p K; columns past N in
  ;; the last panel (N not a multiple of 8) are 0.
  (func (export "pack") (param $b i32) (param $bp i32) (param $K i32) (param $N i32)
    (local $k i32) (local $p i32) (local $src i32) (local $dst i32) (local $panel i32) (local $N8 i32)
    (local.set $panel (i32.shl (local.get $K) (i32.const 5)))
    (local.set $N8 (i32.and (local.get $N) (i32.const -8)))
    (block $kd (loop $kl
      (br_if $kd (i32.ge_u (local.get $k) (local.get $K)))
      (local.set $src (i32.add (local.get $b) (i32.shl (i32.mul (local.get $k) (local.get $N)) (i32.const 2))))
      (local.set $dst (i32.add (local.get $bp) (i32.shl (local.get $k) (i32.const 5))))
      (local.set $p (i32.const 0))
      (block $pd (loop $pl
        (br_if $pd (i32.ge_u (local.get $p) (local.get $N8)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (local.get $panel)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $pl)))
      (if (i32.lt_u (local.get $N8) (local.get $N))
        (then
          (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
          (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))
          (memory.copy (local.get $dst) (local.get $src)
            (i32.shl (i32.sub (local.get $N) (local.get $N8)) (i32.const 2)))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kl))))

  ;; Row i of a tile, columns j .. j+8 of C at $cp: all 8 where they are inside C, else the first $n
  ;; through the 32 bytes at $tmp (the last panel of an N that is not a multiple of 8).
  (func $put (param $cp i32) (param $lo v128) (param $hi v128) (param $n i32) (param $tmp i32)
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (v128.store (local.get $cp) (local.get $lo))
        (v128.store offset=16 (local.get $cp) (local.get $hi)))
      (else
        (v128.store (local.get $tmp) (local.get $lo))
        (v128.store offset=16 (local.get $tmp) (local.get $hi))
        (memory.copy (local.get $cp) (local.get $tmp) (i32.shl (local.get $n) (i32.const 2))))))

  ;; C [M, N] = A [M, K] B for B in panels (pack); $tmp: 32 bytes of scratch. Panels outer (one panel,
  ;; 32 K bytes, stays in L1/L2 while every row reads it), rows inner: 4 at a time (8 sums in
  ;; registers), then the rest one by one.
  (func (export "gemm") (param $a i32) (param $bp i32) (param $c i32) (param $M i32) (param $K i32) (param $N i32)
    (param $tmp i32)
    (local $i i32) (local $j i32) (local $k i32) (local $ap i32) (local $bq i32) (local $cp i32) (local $lda i32) (local $ldc i32) (local $M4 i32)
    (local $n i32)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $lda (i32.shl (local.get $K) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $N) (i32.const 2)))
    (local.set $M4 (i32.and (local.get $M) (i32.const -4)))
    (block $jd (loop $jl
      (br_if $jd (i32.ge_u (local.get $j) (local.get $N)))
      (local.set $n (i32.sub (local.get $N) (local.get $j))) ;; columns left (8 or more: a full panel)
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (local.get $M4)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $c2 (v128.const i32x4 0 0 0 0)) (local.set $c3 (v128.const i32x4 0 0 0 0))
        (local.set $c4 (v128.const i32x4 0 0 0 0)) (local.set $c5 (v128.const i32x4 0 0 0 0))
        (local.set $c6 (v128.const i32x4 0 0 0 0)) (local.set $c7 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $bq (i32.add (local.get $bp) (i32.mul (local.get $j) (local.get $lda))))
        (local.set $k (local.get $K))
        (block $kd (loop $kl
          (br_if $kd (i32.eqz (local.get $k)))
          (local.set $b0 (v128.load (local.get $bq)))
          (local.set $b1 (v128.load offset=16 (local.get $bq)))
          (local.set $av (v128.load32_splat (local.get $ap)))
          (local.set $c0 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $c0)))
          (local.set $c1 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $c1)))
          (local.set $av (v128.load32_splat (i32.add (local.get $ap) (local.get $lda))))
          (local.set $c2 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $c2)))
          (local.set $c3 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $c3)))
          (local.set $av (v128.load32_splat (i32.add (local.get $ap) (i32.shl (local.get $lda) (i32.const 1)))))
          (local.set $c4 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $c4)))
          (local.set $c5 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $c5)))
          (local.set $av (v128.load32_splat (i32.add (local.get $ap) (i32.mul (local.get $lda) (i32.const 3)))))
          (local.set $c6 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $c6)))
          (local.set $c7 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $c7)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (local.set $bq (i32.add (local.get $bq) (i32.const 32)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $kl)))
        (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
        (call $put (local.get $cp) (local.get $c0) (local.get $c1) (local.get $n) (local.get $tmp))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (call $put (local.get $cp) (local.get $c2) (local.get $c3) (local.get $n) (local.get $tmp))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (call $put (local.get $cp) (local.get $c4) (local.get $c5) (local.get $n) (local.get $tmp))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (call $put (local.get $cp) (local.get $c6) (local.get $c7) (local.get $n) (local.get $tmp))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $il)))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $bq (i32.add (local.get $bp) (i32.mul (local.get $j) (local.get $lda))))
        (local.set $k (local.get $K))
        (block $kd1 (loop $kl1
          (br_if $kd1 (i32.eqz (local.get $k)))
          (local.set $av (v128.load32_splat (local.get $ap)))
          (local.set $b0 (v128.load (local.get $bq)))
          (local.set $b1 (v128.load offset=16 (local.get $bq)))
          (local.set $c0 (f32x4.relaxed_madd (local.get $av) (local.get $b0) (local.get $c0)))
          (local.set $c1 (f32x4.relaxed_madd (local.get $av) (local.get $b1) (local.get $c1)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (local.set $bq (i32.add (local.get $bq) (i32.const 32)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $kl1)))
        (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j)) (i32.const 2))))
        (call $put (local.get $cp) (local.get $c0) (local.get $c1) (local.get $n) (local.get $tmp))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rl)))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $jl))))
)
