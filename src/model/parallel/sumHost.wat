;; The in-order sum of the data-parallel threads' gradients (./sum-host.ts; the JS loop it replaces is
;; ./shards.ts sumInOrder) as a WebAssembly SIMD module on the shared memory that holds every thread's
;; gradient buffer: out[i] = out[i] + part[i], one float32 addition per element, as the JS loop rounds
;; it (a double sum of two float32 values rounded to float32 is their float32 sum), so the same digits.
;; Four elements at a time (v128 loads need no alignment), then the tail one at a time. Assembled by
;; `npm run build:wasm` (scripts/build-wasm.ts) into ./sumHost.wasm-bytes.ts;
;; tests/model/parallel/sum-host.test.ts checks the bytes against this text and the sums against the
;; JS loop's.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; out, part: byte offsets; n: elements.
  (func (export "addInto") (param $out i32) (param $part i32) (param $n i32)
    (local $k i32) (local $quads i32) (local $end i32)
    ;; k runs over byte offsets: quads up to 16 * floor(n / 4), then single floats up to 4 n.
    (local.set $quads (i32.shl (i32.shr_u (local.get $n) (i32.const 2)) (i32.const 4)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $quad
        (br_if $done (i32.ge_u (local.get $k) (local.get $quads)))
        (v128.store (i32.add (local.get $out) (local.get $k))
          (f32x4.add
            (v128.load (i32.add (local.get $out) (local.get $k)))
            (v128.load (i32.add (local.get $part) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $quad)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $k) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $k))
          (f32.add
            (f32.load (i32.add (local.get $out) (local.get $k)))
            (f32.load (i32.add (local.get $part) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tail))))
)
