//go:build amd64 && !purego

#include "textflag.h"

// Each kernel takes slices whose length is a multiple of 8 and works on
// two SSE registers (8 lanes) per step; see kernels_other.go for the same
// arithmetic, lane by lane, in Go.

// HSUM reduces the lanes of X to (l0 + l1) + (l2 + l3) in its lane 0.
#define HSUM(X, T) \
	MOVAPS X, T        \
	SHUFPS $0xB1, T, T \
	ADDPS  T, X        \
	MOVAPS X, T        \
	MOVHLPS T, T       \
	ADDSS  T, X

// func Sums8(x []float32, p float32) (s, ss float32)
TEXT ·Sums8(SB), NOSPLIT, $0-40
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVSS  p+24(FP), X7
	SHUFPS $0, X7, X7
	XORPS  X0, X0
	XORPS  X1, X1
	XORPS  X2, X2
	XORPS  X3, X3
	SHRQ   $3, CX
	JZ     sums_done

sums_loop:
	MOVUPS (SI), X4
	MOVUPS 16(SI), X5
	SUBPS  X7, X4
	SUBPS  X7, X5
	ADDPS  X4, X0
	ADDPS  X5, X1
	MULPS  X4, X4
	MULPS  X5, X5
	ADDPS  X4, X2
	ADDPS  X5, X3
	ADDQ   $32, SI
	DECQ   CX
	JNZ    sums_loop

sums_done:
	ADDPS X1, X0
	ADDPS X3, X2
	HSUM(X0, X4)
	HSUM(X2, X5)
	MOVSS X0, s+32(FP)
	MOVSS X2, ss+36(FP)
	RET

// func GradSums8(dy, x []float32, mu float32) (s, sx float32)
TEXT ·GradSums8(SB), NOSPLIT, $0-64
	MOVQ   dy_base+0(FP), SI
	MOVQ   dy_len+8(FP), CX
	MOVQ   x_base+24(FP), DI
	MOVSS  mu+48(FP), X7
	SHUFPS $0, X7, X7
	XORPS  X0, X0
	XORPS  X1, X1
	XORPS  X2, X2
	XORPS  X3, X3
	SHRQ   $3, CX
	JZ     grad_done

grad_loop:
	MOVUPS (SI), X4
	MOVUPS 16(SI), X5
	ADDPS  X4, X0
	ADDPS  X5, X1
	MOVUPS (DI), X8
	MOVUPS 16(DI), X9
	SUBPS  X7, X8
	SUBPS  X7, X9
	MULPS  X8, X4
	MULPS  X9, X5
	ADDPS  X4, X2
	ADDPS  X5, X3
	ADDQ   $32, SI
	ADDQ   $32, DI
	DECQ   CX
	JNZ    grad_loop

grad_done:
	ADDPS X1, X0
	ADDPS X3, X2
	HSUM(X0, X4)
	HSUM(X2, X5)
	MOVSS X0, s+56(FP)
	MOVSS X2, sx+60(FP)
	RET

// func Affine8(dst, x []float32, a, b float32)
TEXT ·Affine8(SB), NOSPLIT, $0-56
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   x_base+24(FP), SI
	MOVSS  a+48(FP), X6
	SHUFPS $0, X6, X6
	MOVSS  b+52(FP), X7
	SHUFPS $0, X7, X7
	SHRQ   $3, CX
	JZ     affine_done

affine_loop:
	MOVUPS (SI), X0
	MOVUPS 16(SI), X1
	MULPS  X6, X0
	MULPS  X6, X1
	ADDPS  X7, X0
	ADDPS  X7, X1
	MOVUPS X0, (DI)
	MOVUPS X1, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, DI
	DECQ   CX
	JNZ    affine_loop

affine_done:
	RET

// func AffineReLU8(dst, x []float32, a, b float32)
TEXT ·AffineReLU8(SB), NOSPLIT, $0-56
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   x_base+24(FP), SI
	MOVSS  a+48(FP), X6
	SHUFPS $0, X6, X6
	MOVSS  b+52(FP), X7
	SHUFPS $0, X7, X7
	SHRQ   $3, CX
	JZ     affrelu_done

affrelu_loop:
	MOVUPS (SI), X0
	MOVUPS 16(SI), X1
	MULPS  X6, X0
	MULPS  X6, X1
	ADDPS  X7, X0
	ADDPS  X7, X1
	// Clear every value whose sign bit is set, as relu32 does.
	MOVAPS X0, X2
	MOVAPS X1, X3
	PSRAL  $31, X2
	PSRAL  $31, X3
	PANDN  X0, X2
	PANDN  X1, X3
	MOVUPS X2, (DI)
	MOVUPS X3, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, DI
	DECQ   CX
	JNZ    affrelu_loop

affrelu_done:
	RET

// BNGRAD computes into X0, X1 the BatchNorm input gradient
// (k·dy + k1) + k2·(x − mu) of the 8 values at SI (dy) and BX (x), with
// k, k1, k2, mu broadcast in X4..X7.
#define BNGRAD \
	MOVUPS (SI), X0   \
	MOVUPS 16(SI), X1 \
	MULPS  X4, X0     \
	MULPS  X4, X1     \
	ADDPS  X5, X0     \
	ADDPS  X5, X1     \
	MOVUPS (BX), X2   \
	MOVUPS 16(BX), X3 \
	SUBPS  X7, X2     \
	SUBPS  X7, X3     \
	MULPS  X6, X2     \
	MULPS  X6, X3     \
	ADDPS  X2, X0     \
	ADDPS  X3, X1

// func BnGrad8(dst, dy, x []float32, k, k1, k2, mu float32)
TEXT ·BnGrad8(SB), NOSPLIT, $0-88
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   dy_base+24(FP), SI
	MOVQ   x_base+48(FP), BX
	MOVSS  k+72(FP), X4
	SHUFPS $0, X4, X4
	MOVSS  k1+76(FP), X5
	SHUFPS $0, X5, X5
	MOVSS  k2+80(FP), X6
	SHUFPS $0, X6, X6
	MOVSS  mu+84(FP), X7
	SHUFPS $0, X7, X7
	SHRQ   $3, CX
	JZ bngrad_done

bngrad_loop:
	BNGRAD
	MOVUPS X0, (DI)
	MOVUPS X1, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, BX
	ADDQ   $32, DI
	DECQ   CX
	JNZ    bngrad_loop

bngrad_done:
	RET

// func BnGradAcc8(dst, dy, x []float32, k, k1, k2, mu float32)
TEXT ·BnGradAcc8(SB), NOSPLIT, $0-88
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   dy_base+24(FP), SI
	MOVQ   x_base+48(FP), BX
	MOVSS  k+72(FP), X4
	SHUFPS $0, X4, X4
	MOVSS  k1+76(FP), X5
	SHUFPS $0, X5, X5
	MOVSS  k2+80(FP), X6
	SHUFPS $0, X6, X6
	MOVSS  mu+84(FP), X7
	SHUFPS $0, X7, X7
	SHRQ   $3, CX
	JZ bngradacc_done

bngradacc_loop:
	BNGRAD
	MOVUPS (DI), X2
	MOVUPS 16(DI), X3
	ADDPS  X0, X2
	ADDPS  X1, X3
	MOVUPS X2, (DI)
	MOVUPS X3, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, BX
	ADDQ   $32, DI
	DECQ   CX
	JNZ    bngradacc_loop

bngradacc_done:
	RET

// func ReluGrad8(dst, d, y []float32)
TEXT ·ReluGrad8(SB), NOSPLIT, $0-72
	MOVQ  dst_base+0(FP), DI
	MOVQ  dst_len+8(FP), CX
	MOVQ  d_base+24(FP), SI
	MOVQ  y_base+48(FP), BX
	PXOR  X7, X7
	SHRQ  $3, CX
	JZ    relugrad_done

relugrad_loop:
	// Keep d where the bits of y are not all zero, as positive does.
	MOVUPS  (BX), X0
	MOVUPS  16(BX), X1
	PCMPEQL X7, X0
	PCMPEQL X7, X1
	MOVUPS  (SI), X2
	MOVUPS  16(SI), X3
	PANDN   X2, X0
	PANDN   X3, X1
	MOVUPS  X0, (DI)
	MOVUPS  X1, 16(DI)
	ADDQ    $32, SI
	ADDQ    $32, BX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     relugrad_loop

relugrad_done:
	RET

// func AddReLU8(dst, a, b []float32)
TEXT ·AddReLU8(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), BX
	SHRQ $3, CX
	JZ   addrelu_done

addrelu_loop:
	MOVUPS (SI), X0
	MOVUPS 16(SI), X1
	MOVUPS (BX), X2
	MOVUPS 16(BX), X3
	ADDPS  X2, X0
	ADDPS  X3, X1
	MOVAPS X0, X2
	MOVAPS X1, X3
	PSRAL  $31, X2
	PSRAL  $31, X3
	PANDN  X0, X2
	PANDN  X1, X3
	MOVUPS X2, (DI)
	MOVUPS X3, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, BX
	ADDQ   $32, DI
	DECQ   CX
	JNZ    addrelu_loop

addrelu_done:
	RET

// func GradSumsReLU8(dr, yr, x []float32, mu float32) (s, sx float32)
TEXT ·GradSumsReLU8(SB), NOSPLIT, $0-88
	MOVQ   dr_base+0(FP), SI
	MOVQ   dr_len+8(FP), CX
	MOVQ   yr_base+24(FP), DX
	MOVQ   x_base+48(FP), DI
	MOVSS  mu+72(FP), X7
	SHUFPS $0, X7, X7
	PXOR   X6, X6
	XORPS  X0, X0
	XORPS  X1, X1
	XORPS  X2, X2
	XORPS  X3, X3
	SHRQ   $3, CX
	JZ     gsr_done

gsr_loop:
	MOVUPS  (DX), X4
	MOVUPS  16(DX), X5
	PCMPEQL X6, X4
	PCMPEQL X6, X5
	MOVUPS  (SI), X8
	MOVUPS  16(SI), X9
	PANDN   X8, X4
	PANDN   X9, X5
	ADDPS   X4, X0
	ADDPS   X5, X1
	MOVUPS  (DI), X8
	MOVUPS  16(DI), X9
	SUBPS   X7, X8
	SUBPS   X7, X9
	MULPS   X8, X4
	MULPS   X9, X5
	ADDPS   X4, X2
	ADDPS   X5, X3
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     gsr_loop

gsr_done:
	ADDPS X1, X0
	ADDPS X3, X2
	HSUM(X0, X4)
	HSUM(X2, X5)
	MOVSS X0, s+80(FP)
	MOVSS X2, sx+84(FP)
	RET

// BNGRADRELU is BNGRAD with dy = dr where yr is not zero: dr at SI, yr at
// DX, x at BX, zero in X8.
#define BNGRADRELU \
	MOVUPS  (DX), X0   \
	MOVUPS  16(DX), X1 \
	PCMPEQL X8, X0     \
	PCMPEQL X8, X1     \
	MOVUPS  (SI), X2   \
	MOVUPS  16(SI), X3 \
	PANDN   X2, X0     \
	PANDN   X3, X1     \
	MULPS   X4, X0     \
	MULPS   X4, X1     \
	ADDPS   X5, X0     \
	ADDPS   X5, X1     \
	MOVUPS  (BX), X2   \
	MOVUPS  16(BX), X3 \
	SUBPS   X7, X2     \
	SUBPS   X7, X3     \
	MULPS   X6, X2     \
	MULPS   X6, X3     \
	ADDPS   X2, X0     \
	ADDPS   X3, X1

// func BnGradReLU8(dst, dr, yr, x []float32, k, k1, k2, mu float32)
TEXT ·BnGradReLU8(SB), NOSPLIT, $0-112
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   dr_base+24(FP), SI
	MOVQ   yr_base+48(FP), DX
	MOVQ   x_base+72(FP), BX
	MOVSS  k+96(FP), X4
	SHUFPS $0, X4, X4
	MOVSS  k1+100(FP), X5
	SHUFPS $0, X5, X5
	MOVSS  k2+104(FP), X6
	SHUFPS $0, X6, X6
	MOVSS  mu+108(FP), X7
	SHUFPS $0, X7, X7
	PXOR   X8, X8
	SHRQ   $3, CX
	JZ     bgr_done

bgr_loop:
	BNGRADRELU
	MOVUPS X0, (DI)
	MOVUPS X1, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, DX
	ADDQ   $32, BX
	ADDQ   $32, DI
	DECQ   CX
	JNZ    bgr_loop

bgr_done:
	RET

// func BnGradReLUAcc8(dst, dr, yr, x []float32, k, k1, k2, mu float32)
TEXT ·BnGradReLUAcc8(SB), NOSPLIT, $0-112
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), CX
	MOVQ   dr_base+24(FP), SI
	MOVQ   yr_base+48(FP), DX
	MOVQ   x_base+72(FP), BX
	MOVSS  k+96(FP), X4
	SHUFPS $0, X4, X4
	MOVSS  k1+100(FP), X5
	SHUFPS $0, X5, X5
	MOVSS  k2+104(FP), X6
	SHUFPS $0, X6, X6
	MOVSS  mu+108(FP), X7
	SHUFPS $0, X7, X7
	PXOR   X8, X8
	SHRQ   $3, CX
	JZ     bgra_done

bgra_loop:
	BNGRADRELU
	MOVUPS (DI), X2
	MOVUPS 16(DI), X3
	ADDPS  X0, X2
	ADDPS  X1, X3
	MOVUPS X2, (DI)
	MOVUPS X3, 16(DI)
	ADDQ   $32, SI
	ADDQ   $32, DX
	ADDQ   $32, BX
	ADDQ   $32, DI
	DECQ   CX
	JNZ    bgra_loop

bgra_done:
	RET
