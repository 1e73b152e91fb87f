;; Adam (./adam-host.ts) as a WebAssembly SIMD module that works on tfjs's own wasm heap: it imports
;; the tfjs module's memory, and its pointers are the byte offsets of the tensors there
;; (backend.getMemoryOffset), so nothing is copied in or out. The moments are written over; the new
;; weights go to a new tensor (wOut), which the variable is then assigned. Assembled by `npm run build:wasm`
;; (scripts/build-wasm.ts) into ./adamHost.wasm-bytes.ts; tests/model/training/adam-host.test.ts
;; checks the bytes against this text and the results, bit for bit, against tfjs's AdamOptimizer.
;;
;; Per element, each operation in float32 and in tfjs's order (tfjs-core 4.x adam_optimizer.js, with
;; the clipping product of ./update.ts first):
;;   g  = clip ? grad * scale : grad
;;   m' = m * b1 + g * c1                  (c1 = 1 - b1, as a float32)
;;   v' = v * b2 + (g * g) * c2            (c2 = 1 - b2)
;;   w' = ((m' / d1) / (sqrt(v' / d2) + eps)) * negLr + w      (d1 = 1 - b1^t, d2 = 1 - b2^t, negLr = -lr)
;; Four elements at a time, then the tail one at a time.
(module
  (import "env" "memory" (memory 1))

  (func (export "adam") (param $g i32) (param $m i32) (param $v i32) (param $w i32) (param $wOut i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $c1 f32) (param $c2 f32) (param $d1 f32) (param $d2 f32)
    (param $eps f32) (param $negLr f32) (param $scale f32) (param $clip i32)
    (local $k i32) (local $end i32) (local $quads i32)
    (local $G v128) (local $M v128) (local $V v128)
    (local $B1 v128) (local $B2 v128) (local $C1 v128) (local $C2 v128) (local $D1 v128) (local $D2 v128)
    (local $EPS v128) (local $LR v128) (local $S v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $D1 (f32x4.splat (local.get $d1)))
    (local.set $D2 (f32x4.splat (local.get $d2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $LR (f32x4.splat (local.get $negLr)))
    (local.set $S (f32x4.splat (local.get $scale)))
    ;; k runs over byte offsets: quads up to 16 * floor(n / 4), then single floats up to 4 n.
    (local.set $quads (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $k (i32.const 0))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $k) (local.get $quads)))
        (local.set $G (v128.load (i32.add (local.get $g) (local.get $k))))
        (if (local.get $clip) (then (local.set $G (f32x4.mul (local.get $G) (local.get $S)))))
        (local.set $M (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $k))) (local.get $B1))
          (f32x4.mul (local.get $G) (local.get $C1))))
        (local.set $V (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $k))) (local.get $B2))
          (f32x4.mul (f32x4.mul (local.get $G) (local.get $G)) (local.get $C2))))
        (v128.store (i32.add (local.get $m) (local.get $k)) (local.get $M))
        (v128.store (i32.add (local.get $v) (local.get $k)) (local.get $V))
        (v128.store (i32.add (local.get $wOut) (local.get $k))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $M) (local.get $D1))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $V) (local.get $D2))) (local.get $EPS)))
              (local.get $LR))
            (v128.load (i32.add (local.get $w) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $quad)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $k))))
        (if (local.get $clip) (then (local.set $gs (f32.mul (local.get $gs) (local.get $scale)))))
        (local.set $ms (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $k))) (local.get $b1))
          (f32.mul (local.get $gs) (local.get $c1))))
        (local.set $vs (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $k))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $c2))))
        (f32.store (i32.add (local.get $m) (local.get $k)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $k)) (local.get $vs))
        (f32.store (i32.add (local.get $wOut) (local.get $k))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $d1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $d2))) (local.get $eps)))
              (local.get $negLr))
            (f32.load (i32.add (local.get $w) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail))))
)
