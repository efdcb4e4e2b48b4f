/*
** ccall.c: calling C functions.
**
** Every function type gets one call descriptor, prepared on first use and
** cached by type id: how each argument converts, the libffi types and a
** prepared ffi_cif (cabi.c describes the types; callbacks get the same
** cif through ccall_cif).  On x86-64 SysV and aarch64 a signature whose
** arguments all go to registers (integers/pointers and float/double, which
** are allocated from two separate register files in order) is called
** directly through a C function-pointer type chosen by class; everything
** else goes through ffi_call.  A library function is a C closure over a
** small block {fptr, descriptor, state, library, name}; closures of up to
** four parameters are unrolled and call all-integer or all-double
** signatures inline.  ffi._slowpath swaps every direct invoker for one that
** makes the same call through the prepared ffi_cif, so specs can compare.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ffi.h>

#include "cffi.h"
#include "cabi.h"

#if defined(__GNUC__)
#define CCALL_LIKELY(x)    __builtin_expect(!!(x), 1)
#define CCALL_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define CCALL_INLINE       static inline __attribute__((always_inline))
#define CCALL_NOINLINE     static __attribute__((noinline))
#else
#define CCALL_LIKELY(x)    (x)
#define CCALL_UNLIKELY(x)  (x)
#define CCALL_INLINE       static inline
#define CCALL_NOINLINE     static
#endif

#define CCALL_MAXINT  8   /* integer-class arguments of a direct call */
#define CCALL_MAXFP   8   /* float/double arguments of a direct call */
#if defined(__x86_64__)
#define CCALL_NINTREG 6   /* integer argument registers */
#define CCALL_NFPRET  2   /* fp registers a record result may use */
#else
#define CCALL_NINTREG 8
#define CCALL_NFPRET  4
#endif
#define CCALL_NRET    4   /* register images of a result */
#define CCALL_STACKBUF 512  /* bytes of argument buffer kept on the C stack */

/* One argument register image: integers extended to 64 bits, a double's
** bits, or a float's bits in the low half. */
typedef union CCallReg { uint64_t u; double d; } CCallReg;

struct CCallDesc;

/* Calls fn with r[0..] in integer registers and r[8..] in fp registers
** (d: the descriptor, for the libffi stand-in used by ffi._slowpath). */
typedef void (*CCallInvoker)(void *fn, const CCallReg *r, CCallReg *ret,
                             const struct CCallDesc *d);

/* How a Lua value becomes an argument: cconv's scalar classes (cffi.h),
** then the kinds only ccall.c knows. */
enum {
  CA_I8 = CCS_I8, CA_U8 = CCS_U8, CA_I16 = CCS_I16, CA_U16 = CCS_U16,
  CA_I32 = CCS_I32, CA_U32 = CCS_U32, CA_I64 = CCS_I64, CA_U64 = CCS_U64,
  CA_BOOL = CCS_BOOL, CA_FLOAT = CCS_FLOAT, CA_DOUBLE = CCS_DOUBLE,
  CA_PTR = CCS_PTR,    /* any pointer: nil and plain cdata inline */
  CA_STR = CCS_STR,    /* char / void pointer: Lua strings pass their bytes */
  CA_AGG = CCS_OTHER + 1,  /* struct, union, complex by value */
  CA_REF,      /* C++ reference: an address from a cdata (cconv's rules) */
  CA_OTHER     /* long double and the rest (libffi only, through cconv) */
};

/* Signature classes a small closure calls inline. */
enum { CC_NONE, CC_INT, CC_DBL };

/* How a result becomes a Lua value: the scalar classes, then these. */
enum {
  CR_I8 = CCS_I8, CR_I32 = CCS_I32, CR_U64 = CCS_U64,
  CR_FLOAT = CCS_FLOAT, CR_DOUBLE = CCS_DOUBLE, CR_PTR = CCS_PTR,
  CR_VOID = CCS_VOID,
  CR_AGG = CCS_OTHER + 1,  /* new cdata holding a copy */
  CR_OTHER     /* cconv_tolua */
};

/* Invokers by result: integer class or void, float/double, a small
** record in integer registers, a small record in fp registers. */
enum { CK_INT, CK_FP, CK_AGGINT, CK_AGGFP, CK__N };

typedef struct CCallArg {
  CTypeID id;          /* type the Lua value converts to */
  CTypeID to;          /* pointers: the pointee (cconv_fastptr) */
  uint8_t conv;        /* CA_* */
  uint8_t reg;         /* direct call: index of the (first) register image */
  uint8_t nreg;        /* CA_AGG passed directly: register images it takes */
  uint8_t stride;      /* ... and bytes of its memory image in each */
  uint16_t quals;      /* pointers: qualifiers of the pointee */
  uint32_t off;        /* libffi call: offset of the value in the buffer */
  uint32_t size;       /* bytes of the value */
} CCallArg;

typedef struct CCallDesc {
  CTypeID fid;         /* the CT_FUNC type */
  CTypeID ret;         /* its return type */
  uint32_t nargs;      /* fixed parameters */
  uint8_t variadic;
  uint8_t rconv;       /* CR_* */
  uint8_t cls;         /* CC_INT: direct-callable, every argument and the
                          result of integer class; CC_DBL: all double */
  uint8_t inl;         /* cls unless forced slow: closures of small arity
                          make the call inline */
  uint8_t rnreg;       /* CR_AGG returned directly: register images ... */
  uint8_t rstride;     /* ... and bytes of the memory image in each */
  uint32_t rbytes;     /* CR_AGG: bytes of the record */
  uint8_t hasagg;      /* a record argument or result passes in registers */
  CCallInvoker invoke; /* direct invoker or its libffi stand-in; NULL when
                          the signature needs the general path */
  CCallInvoker dinvoke;/* direct call this signature allows, or NULL */
  uint32_t bufsize;    /* argument buffer bytes (fixed part) */
  uint32_t rsize;      /* return buffer bytes (at least 16) */
  ffi_type *rtype;
  ffi_type **atypes;   /* nargs entries, after args[] */
  ffi_cif cif;         /* prepared when not variadic */
  CCallArg args[1];    /* nargs entries */
} CCallDesc;

/* The block behind a library function closure (upvalue 1 is its address
** as a light userdata, upvalue 2 the block itself, 3 the library). */
typedef struct CCallFunc {
  int nfast;           /* argument count of the direct path, -1: none (yet) */
  void *fptr;
  CCallDesc *desc;     /* NULL until the first call */
  CTState *S;
  const CLib *lib;     /* its library (ffi.C too); ccall_nolib for none */
  CTypeID fid;
  char name[1];        /* allocated longer */
} CCallFunc;

/* Stands for "no library to check": never closed (read only). */
static const CLib ccall_nolib = { (void *)&ccall_nolib, 1, { 0 } };

typedef struct CCallState {
  CCallDesc **bytype;  /* descriptor by function type id (Lua-owned blocks
                          anchored in the CFFI_T_CALLS table for the life of
                          the state: callback closures use their cif) */
  uint32_t nbytype;
  int slow;            /* ffi._slowpath: every call through ffi_call */
} CCallState;


/* ---- direct-call invokers ---------------------------------------------- */

#if CABI_DIRECT

#define CCALL_TI1 uint64_t
#define CCALL_TI2 CCALL_TI1, uint64_t
#define CCALL_TI3 CCALL_TI2, uint64_t
#define CCALL_TI4 CCALL_TI3, uint64_t
#define CCALL_TI5 CCALL_TI4, uint64_t
#define CCALL_TI6 CCALL_TI5, uint64_t
#define CCALL_TI7 CCALL_TI6, uint64_t
#define CCALL_TI8 CCALL_TI7, uint64_t
#define CCALL_AI1 r[0].u
#define CCALL_AI2 CCALL_AI1, r[1].u
#define CCALL_AI3 CCALL_AI2, r[2].u
#define CCALL_AI4 CCALL_AI3, r[3].u
#define CCALL_AI5 CCALL_AI4, r[4].u
#define CCALL_AI6 CCALL_AI5, r[5].u
#define CCALL_AI7 CCALL_AI6, r[6].u
#define CCALL_AI8 CCALL_AI7, r[7].u
#define CCALL_TF1 double
#define CCALL_TF2 CCALL_TF1, double
#define CCALL_TF3 CCALL_TF2, double
#define CCALL_TF4 CCALL_TF3, double
#define CCALL_TF5 CCALL_TF4, double
#define CCALL_TF6 CCALL_TF5, double
#define CCALL_TF7 CCALL_TF6, double
#define CCALL_TF8 CCALL_TF7, double
#define CCALL_AF1 r[8].d
#define CCALL_AF2 CCALL_AF1, r[9].d
#define CCALL_AF3 CCALL_AF2, r[10].d
#define CCALL_AF4 CCALL_AF3, r[11].d
#define CCALL_AF5 CCALL_AF4, r[12].d
#define CCALL_AF6 CCALL_AF5, r[13].d
#define CCALL_AF7 CCALL_AF6, r[14].d
#define CCALL_AF8 CCALL_AF7, r[15].d

/* Integer-class results come back in the first integer register (void
** ignores it), float and double in the first fp register: a float is the
** low half of what a double-returning call sees.  Small records come back
** in the first two integer registers or the first CCALL_NFPRET fp
** registers: a record type of that class reads them all (the ones the
** callee did not set are ignored). */
typedef struct CCallRetInt { uint64_t u[2]; } CCallRetInt;
typedef struct CCallRetFp { double d[CCALL_NFPRET]; } CCallRetFp;

#define CCALL_INV(rk, RT, ni, nf, PT, AL) \
  static void ccall_inv_##rk##ni##_##nf(void *fn, const CCallReg *r, \
                                        CCallReg *ret, const CCallDesc *d) \
  { RT x; (void)r; (void)d; x = ((RT (*)PT)fn)AL; memcpy(ret, &x, sizeof x); }
#define CCALL_INV2(ni, nf, PT, AL) \
  CCALL_INV(u, uint64_t, ni, nf, PT, AL) CCALL_INV(d, double, ni, nf, PT, AL) \
  CCALL_INV(U, CCallRetInt, ni, nf, PT, AL) CCALL_INV(D, CCallRetFp, ni, nf, PT, AL)
#define CCALL_ROW0 \
  CCALL_INV2(0, 0, (void), ()) \
  CCALL_INV2(0, 1, (CCALL_TF1), (CCALL_AF1)) \
  CCALL_INV2(0, 2, (CCALL_TF2), (CCALL_AF2)) \
  CCALL_INV2(0, 3, (CCALL_TF3), (CCALL_AF3)) \
  CCALL_INV2(0, 4, (CCALL_TF4), (CCALL_AF4)) \
  CCALL_INV2(0, 5, (CCALL_TF5), (CCALL_AF5)) \
  CCALL_INV2(0, 6, (CCALL_TF6), (CCALL_AF6)) \
  CCALL_INV2(0, 7, (CCALL_TF7), (CCALL_AF7)) \
  CCALL_INV2(0, 8, (CCALL_TF8), (CCALL_AF8))
#define CCALL_ROW(ni) \
  CCALL_INV2(ni, 0, (CCALL_TI##ni), (CCALL_AI##ni)) \
  CCALL_INV2(ni, 1, (CCALL_TI##ni, CCALL_TF1), (CCALL_AI##ni, CCALL_AF1)) \
  CCALL_INV2(ni, 2, (CCALL_TI##ni, CCALL_TF2), (CCALL_AI##ni, CCALL_AF2)) \
  CCALL_INV2(ni, 3, (CCALL_TI##ni, CCALL_TF3), (CCALL_AI##ni, CCALL_AF3)) \
  CCALL_INV2(ni, 4, (CCALL_TI##ni, CCALL_TF4), (CCALL_AI##ni, CCALL_AF4)) \
  CCALL_INV2(ni, 5, (CCALL_TI##ni, CCALL_TF5), (CCALL_AI##ni, CCALL_AF5)) \
  CCALL_INV2(ni, 6, (CCALL_TI##ni, CCALL_TF6), (CCALL_AI##ni, CCALL_AF6)) \
  CCALL_INV2(ni, 7, (CCALL_TI##ni, CCALL_TF7), (CCALL_AI##ni, CCALL_AF7)) \
  CCALL_INV2(ni, 8, (CCALL_TI##ni, CCALL_TF8), (CCALL_AI##ni, CCALL_AF8))

CCALL_ROW0
CCALL_ROW(1) CCALL_ROW(2) CCALL_ROW(3) CCALL_ROW(4)
CCALL_ROW(5) CCALL_ROW(6) CCALL_ROW(7) CCALL_ROW(8)

#define CCALL_TROW(rk, ni) { \
  ccall_inv_##rk##ni##_0, ccall_inv_##rk##ni##_1, ccall_inv_##rk##ni##_2, \
  ccall_inv_##rk##ni##_3, ccall_inv_##rk##ni##_4, ccall_inv_##rk##ni##_5, \
  ccall_inv_##rk##ni##_6, ccall_inv_##rk##ni##_7, ccall_inv_##rk##ni##_8 }
#define CCALL_TABLE(rk) { \
  CCALL_TROW(rk, 0), CCALL_TROW(rk, 1), CCALL_TROW(rk, 2), \
  CCALL_TROW(rk, 3), CCALL_TROW(rk, 4), CCALL_TROW(rk, 5), \
  CCALL_TROW(rk, 6), CCALL_TROW(rk, 7), CCALL_TROW(rk, 8) }

/* [CK_* result kind][int args][fp args] */
static const CCallInvoker ccall_invokers[CK__N][CCALL_MAXINT + 1][CCALL_MAXFP + 1] = {
  CCALL_TABLE(u), CCALL_TABLE(d), CCALL_TABLE(U), CCALL_TABLE(D)
};

#endif

CCALL_INLINE void ccall_split(const unsigned char *src, size_t size,
                              unsigned stride, CCallReg *r, unsigned nreg);
CCALL_INLINE void ccall_join(const CCallReg *r, unsigned nreg, unsigned stride,
                             unsigned char *dst, size_t size);

/* ffi._slowpath's stand-in for a direct invoker: the same register images
** (each holds its value in its low bytes) through the prepared ffi_cif.
** Records are rebuilt from their register images, and a record result is
** split into them, as the direct path expects. */
static void ccall_inv_ffi(void *fn, const CCallReg *r, CCallReg *ret,
                          const CCallDesc *d) {
  void *av[CCALL_MAXINT + CCALL_MAXFP];
  union { unsigned char b[(CCALL_MAXINT + CCALL_MAXFP) * 8]; uint64_t a; } mem;
  union { unsigned char b[64]; uint64_t a; } rb;
  uint32_t i;
  for (i = 0; i < d->nargs; i++) {
    const CCallArg *a = &d->args[i];
    av[i] = (void *)&r[a->reg];
    if (a->conv == CA_AGG) {
      unsigned char *m = mem.b + 8 * a->reg;
      ccall_join(&r[a->reg], a->nreg, a->stride, m, a->size);
      av[i] = m;
    }
  }
  if (d->rconv == CR_AGG) {
    memset(rb.b, 0, sizeof rb.b);
    ffi_call((ffi_cif *)&d->cif, FFI_FN(fn), rb.b, av);
    ccall_split(rb.b, d->rbytes, d->rstride, ret, d->rnreg);
  } else {
    ffi_call((ffi_cif *)&d->cif, FFI_FN(fn), ret, av);
  }
}


/* ---- state ------------------------------------------------------------- */

static CCallState *ccall_state(lua_State *L, CTState *S) {
  if (CCALL_UNLIKELY(S->call == NULL)) {
    S->call = (CCallState *)calloc(1, sizeof(CCallState));
    if (S->call == NULL) luaL_error(L, "not enough memory");
  }
  return S->call;
}

void ccall_freestate(CTState *S) {
  if (S->call != NULL) {
    free(S->call->bytype);
    free(S->call);
    S->call = NULL;
  }
}

static const char *ccall_repr(CTState *S, CTypeID id, char *buf, size_t n) {
  return ctype_repr(S, id, buf, n);
}


/* ---- small records in registers ---------------------------------------- */

/* A record cabi_aggplan accepts passes as nreg register images, each
** holding `stride` bytes of its memory image.
** Memory image <-> register images (each image's unused bytes zero). */
CCALL_INLINE void ccall_split(const unsigned char *src, size_t size,
                              unsigned stride, CCallReg *r, unsigned nreg) {
  unsigned k;
  for (k = 0; k < nreg; k++, src += stride) {
    size_t n = size - (size_t)k * stride;
    if (n >= 8 && stride == 8) {
      memcpy(&r[k].u, src, 8);
    } else {
      r[k].u = 0;
      memcpy(&r[k], src, n < stride ? n : stride);
    }
  }
}

CCALL_INLINE void ccall_join(const CCallReg *r, unsigned nreg, unsigned stride,
                             unsigned char *dst, size_t size) {
  unsigned k;
  for (k = 0; k < nreg; k++, dst += stride) {
    size_t n = size - (size_t)k * stride;
    if (n >= 8 && stride == 8) memcpy(dst, &r[k].u, 8);
    else memcpy(dst, &r[k], n < stride ? n : stride);
  }
}


/* ---- call descriptors -------------------------------------------------- */

static void ccall_byvalerror(lua_State *L, CTState *S, CTypeID id) {
  char buf[128];
  const CType *ct = ctype_get(S, id);
  const char *why = (ct->flags & CTF_INCOMPLETE) ? " (incomplete type)" :
                    ct->kind == CT_VECTOR ? " (vector type)" :
                    ct->size == 0 ? " (empty type)" :
                    ct->size > CABI_MAXBYVAL ? " (larger than 65536 bytes)" :
                    ct->align > CABI_MAXALIGN ? " (aligned to more than 16 bytes)" : "";
  luaL_error(L, "cannot pass or return '%s' by value%s",
             ccall_repr(S, id, buf, sizeof buf), why);
}

/* Fill one argument's plan.  Returns its libffi type. */
static ffi_type *ccall_planarg(lua_State *L, CTState *S, CCallArg *a,
                               CTypeID id, int calls) {
  const CType *ct = ctype_get(S, id);
  ffi_type *t;
  a->id = id;
  a->size = 8;
  switch (ct->kind) {
    case CT_BOOL: case CT_INT: case CT_ENUM:
      t = cabi_ffitype(L, S, id, calls);
      a->conv = (uint8_t)cconv_sclass(S, id, CCF_ARG);
      if (t == NULL || a->conv > CA_BOOL) break;
      return t;
    case CT_FLOAT:
      if (ct->size == 4) { a->conv = CA_FLOAT; return &ffi_type_float; }
      if (ct->size == 8) { a->conv = CA_DOUBLE; return &ffi_type_double; }
      a->conv = CA_OTHER;
      a->size = (uint32_t)(ct->size > 8 ? ct->size : 8);
      return &ffi_type_longdouble;
    case CT_PTR: case CT_REF:
      a->conv = ct->kind == CT_REF ? CA_REF : (uint8_t)cconv_sclass(S, id, CCF_ARG);
      a->to = ct->child;
      a->quals = (uint16_t)(ct->flags & CTF_QUALS);
      return &ffi_type_pointer;
    case CT_ARRAY: {     /* parameter of array type: a pointer to elements */
      CTypeID pid = ctype_ptr(S, ct->child, ct->flags & CTF_QUALS);
      if (pid == 0) luaL_error(L, "not enough memory");
      return ccall_planarg(L, S, a, pid, calls);
    }
    case CT_FUNC: {      /* parameter of function type: a function pointer */
      CTypeID pid = ctype_ptr(S, id, 0);
      if (pid == 0) luaL_error(L, "not enough memory");
      return ccall_planarg(L, S, a, pid, calls);
    }
    case CT_STRUCT: case CT_UNION: case CT_COMPLEX:
      t = cabi_aggtype(L, S, id, calls);
      if (t == NULL) break;
      a->conv = CA_AGG;
      a->size = (uint32_t)t->size;
      return t;
    default: break;
  }
  ccall_byvalerror(L, S, id);
  return NULL;
}

static ffi_type *ccall_planret(lua_State *L, CTState *S, CCallDesc *d,
                               int calls) {
  CTypeID id = d->ret;
  const CType *ct = ctype_get(S, id);
  ffi_type *t;
  d->rsize = 16;
  switch (ct->kind) {
    case CT_VOID: d->rconv = CR_VOID; return &ffi_type_void;
    case CT_BOOL: case CT_INT: case CT_ENUM:
      t = cabi_ffitype(L, S, id, calls);
      d->rconv = (uint8_t)cconv_sclass(S, id, 0);
      if (t == NULL || d->rconv > CCS_BOOL) break;
      return t;
    case CT_FLOAT:
      if (ct->size == 4) { d->rconv = CR_FLOAT; return &ffi_type_float; }
      if (ct->size == 8) { d->rconv = CR_DOUBLE; return &ffi_type_double; }
      d->rconv = CR_OTHER;
      return &ffi_type_longdouble;
    case CT_PTR: d->rconv = CR_PTR; return &ffi_type_pointer;
    case CT_REF: d->rconv = CR_OTHER; return &ffi_type_pointer;
    case CT_STRUCT: case CT_UNION: case CT_COMPLEX:
      t = cabi_aggtype(L, S, id, calls);
      if (t == NULL) break;
      d->rconv = CR_AGG;
      d->rbytes = (uint32_t)t->size;
      if (t->size > 16) d->rsize = (uint32_t)((t->size + 15) & ~(size_t)15);
      return t;
    default: break;
  }
  ccall_byvalerror(L, S, id);
  return NULL;
}

#define CCALL_ALIGN16(n)  (((n) + 15) & ~(size_t)15)

/* Build the descriptor of function type fid; anchors it in CALLS. */
static CCallDesc *ccall_prep(lua_State *L, CTState *S, CTypeID fid) {
  CCallState *cs = ccall_state(L, S);
  const CType *ft = ctype_get(S, fid);
  uint32_t n = ft->nfield, i, ni = 0, nf = 0, nagg = 0;
  int calls, direct = CABI_DIRECT, kind = CK_INT;
  size_t off = 0, sz;
  CCallDesc *d;
  char buf[160];
  if (ft->kind != CT_FUNC)
    luaL_error(L, "'%s' is not a function type", ccall_repr(S, fid, buf, sizeof buf));
  luaL_checkstack(L, 8, NULL);
  cffi_pushtable(L, S, CFFI_T_CALLS);
  calls = lua_gettop(L);
  sz = sizeof(CCallDesc) + n * (sizeof(CCallArg) + sizeof(ffi_type *));
  d = (CCallDesc *)lua_newuserdatauv(L, sz, 0);
  memset(d, 0, sz);
  d->fid = fid;
  d->ret = ft->child;
  d->nargs = n;
  d->variadic = (ft->flags & CTF_VARIADIC) != 0;
  d->atypes = (ffi_type **)(void *)((char *)d + sizeof(CCallDesc) +
                                    n * sizeof(CCallArg));
  d->rtype = ccall_planret(L, S, d, calls);
  if (d->rconv == CR_AGG) {
    CAbiAggPlan p;
    if (cabi_aggplan(S, d->ret, &p)) {
      kind = p.fp ? CK_AGGFP : CK_AGGINT;
      d->rnreg = p.nreg;
      d->rstride = p.stride;
    } else {
      direct = 0;
    }
  } else if (d->rconv == CR_OTHER) {
    direct = 0;
  } else if (d->rconv == CR_FLOAT || d->rconv == CR_DOUBLE) {
    kind = CK_FP;
  }
  for (i = 0; i < n; i++) {
    CCallArg *a = &d->args[i];
    CTypeID pid = ctype_field(S, ctype_get(S, fid), i)->type;
    CAbiAggPlan p;
    d->atypes[i] = ccall_planarg(L, S, a, pid, calls);
    a->off = (uint32_t)off;
    off += CCALL_ALIGN16(a->size);
    if (a->conv == CA_FLOAT || a->conv == CA_DOUBLE) {
      a->reg = (uint8_t)(8 + (nf < 255 ? nf++ : nf));
    } else if (a->conv <= CA_STR || a->conv == CA_REF) {
      a->reg = (uint8_t)(ni < 255 ? ni++ : ni);
    } else if (a->conv == CA_AGG && cabi_aggplan(S, pid, &p)) {
      uint32_t *nr = p.fp ? &nf : &ni;
      nagg++;
      a->nreg = p.nreg;
      a->stride = p.stride;
      a->reg = (uint8_t)((p.fp ? 8 : 0) + (*nr < 64 ? *nr : 64));
      *nr += p.nreg;
    } else {
      direct = 0;
    }
  }
  if (off > 0x7fffffff) luaL_error(L, "too many arguments");
  d->bufsize = (uint32_t)off;
  if (!d->variadic) {
    ffi_status st = ffi_prep_cif(&d->cif, FFI_DEFAULT_ABI, n, d->rtype,
                                 n ? d->atypes : NULL);
    if (st != FFI_OK)
      luaL_error(L, "cannot prepare a call of type '%s'",
                 ccall_repr(S, fid, buf, sizeof buf));
  }
  /* A record that does not fit in the registers left goes to the stack
  ** whole while later scalars still take registers: only calls whose
  ** records all fit are direct. */
  if (nagg > 0 && ni > CCALL_NINTREG) direct = 0;
#if CABI_DIRECT
  if (direct && !d->variadic && ni <= CCALL_MAXINT && nf <= CCALL_MAXFP)
    d->dinvoke = ccall_invokers[kind][ni][nf];
#else
  (void)direct; (void)ni; (void)nf; (void)kind;
#endif
  d->invoke = (d->dinvoke != NULL && cs->slow) ? ccall_inv_ffi : d->dinvoke;
  d->hasagg = d->dinvoke != NULL && (nagg > 0 || kind >= CK_AGGINT);
  if (d->dinvoke != NULL && nf == 0 && kind == CK_INT && nagg == 0)
    d->cls = CC_INT;
  else if (d->dinvoke != NULL && ni == 0 && d->rconv == CR_DOUBLE) {
    d->cls = CC_DBL;
    for (i = 0; i < n; i++)
      if (d->args[i].conv != CA_DOUBLE) d->cls = CC_NONE;
  }
  d->inl = cs->slow ? CC_NONE : d->cls;
  /* anchor, then index by type id */
  if (fid >= cs->nbytype) {
    uint32_t nn = cs->nbytype ? cs->nbytype : 64;
    CCallDesc **nb;
    while (nn <= fid) nn *= 2;
    nb = (CCallDesc **)realloc(cs->bytype, nn * sizeof(CCallDesc *));
    if (nb == NULL) luaL_error(L, "not enough memory");
    memset(nb + cs->nbytype, 0, (nn - cs->nbytype) * sizeof(CCallDesc *));
    cs->bytype = nb;
    cs->nbytype = nn;
  }
  lua_rawseti(L, calls, (lua_Integer)fid);
  lua_pop(L, 1);
  cs->bytype[fid] = d;
  return d;
}

static CCallDesc *ccall_getdesc(lua_State *L, CTState *S, CTypeID fid) {
  CCallState *cs = S->call;
  if (cs != NULL && fid < cs->nbytype && cs->bytype[fid] != NULL)
    return cs->bytype[fid];
  return ccall_prep(L, S, fid);
}

/* The one description of a function type for libffi, shared with
** callbacks: closures point at the descriptor's own cif, which (like the
** ffi_types under it) is anchored in CALLS and never replaced or released
** before the state closes, after ccallback_freestate. */
void *ccall_cif(lua_State *L, CTState *S, CTypeID fid, CTypeID *ptypes) {
  CCallDesc *d = ccall_getdesc(L, S, fid);
  uint32_t i;
  if (d->variadic) return NULL;
  if (ptypes != NULL)
    for (i = 0; i < d->nargs; i++) ptypes[i] = d->args[i].id;
  return &d->cif;
}


/* ---- arguments --------------------------------------------------------- */

static uint64_t ccall_normalize(int conv, uint64_t u) {
  if (conv <= CA_U64) return cconv_extend(conv, u);
  if (conv == CA_BOOL) return (uint8_t)u;
  if (conv == CA_FLOAT) return (uint32_t)u;
  return u;
}

/* Whatever the inline cases leave: cconv decides (and raises). */
CCALL_NOINLINE uint64_t ccall_argconv(lua_State *L, CTState *S,
                                      const CCallArg *a, int idx, int narg,
                                      const char *name) {
  union { uint64_t u; unsigned char b[16]; } t;
  memset(&t, 0, sizeof t);
  cconv_toarg(L, S, a->id, &t, idx, CCF_ARG | CCF_NARG(narg), name);
  return ccall_normalize(a->conv, t.u);
}

/* The less common inline cases: other scalars, cdata to pointers. */
CCALL_NOINLINE uint64_t ccall_argmore(lua_State *L, CTState *S,
                                      const CCallDesc *d, uint32_t i, int idx,
                                      int narg, const char *name) {
  const CCallArg *a = &d->args[i];
  int conv = a->conv;
  uint64_t u;
  if (conv < CA_PTR) {
    if (cconv_fastreg(L, conv, idx, &u)) return u;
  } else if ((conv == CA_PTR || conv == CA_STR || conv == CA_REF) &&
             lua_type(L, idx) == LUA_TUSERDATA) {
    if (cconv_fastptr(L, S, a->id, a->to, a->quals, idx, &u)) return u;
  }
  return ccall_argconv(L, S, a, idx, narg, name);
}

/* The register image of a scalar argument.  The inline cases (cffi.h)
** take the values that convert exactly as cconv would; the rest go
** through cconv, so both paths agree. */
CCALL_INLINE uint64_t ccall_arg(lua_State *L, CTState *S, const CCallDesc *d,
                                uint32_t i, int idx, int narg,
                                const char *name) {
  const CCallArg *a = &d->args[i];
  int conv = a->conv;
  uint64_t u;
  if (CCALL_LIKELY(conv == CA_I32)) {   /* int: the most common */
    if (CCALL_LIKELY(cconv_fastint(L, CCS_I32, idx, &u))) return u;
  } else if (conv == CA_DOUBLE) {
    if (CCALL_LIKELY(cconv_fastreg(L, CCS_DOUBLE, idx, &u))) return u;
  } else if (conv == CA_STR || conv == CA_PTR) {
    int r = cconv_fastptrarg(L, conv, idx, &u);
    if (CCALL_LIKELY(r > 0)) return u;
    if (r < 0 && cconv_fastptr(L, S, a->id, a->to, a->quals, idx, &u)) return u;
  } else if (conv == CA_I64 || conv == CA_U64) {   /* no extension */
    if (CCALL_LIKELY(cconv_fastint(L, CCS_I64, idx, &u))) return u;
  } else if (conv <= CA_U64) {
    if (CCALL_LIKELY(cconv_fastint(L, conv, idx, &u))) return u;
  }
  return ccall_argmore(L, S, d, i, idx, narg, name);
}

/* A record argument of a direct call into its register images: a cdata
** of its very type is copied (all cconv would do), the rest converts. */
CCALL_NOINLINE void ccall_aggarg(lua_State *L, CTState *S, const CCallArg *a,
                                 CCallReg *r, int idx, int narg,
                                 const char *name) {
  union { unsigned char b[32]; uint64_t u; } m;
  const unsigned char *src = m.b;
  CData *cd = NULL;
  if (lua_getmetatable(L, idx)) {        /* only cdata have one of ours */
    const void *mt = lua_topointer(L, -1);
    lua_settop(L, -2);
    if (mt == S->cdmt || mt == S->cdmtgc) cd = (CData *)lua_touserdata(L, idx);
  }
  if (cd != NULL && cd->id == a->id) {
    src = (const unsigned char *)cdata_ptr(cd);
  } else {
    memset(m.b, 0, sizeof m.b);
    cconv_toarg(L, S, a->id, m.b, idx, CCF_ARG | CCF_INIT | CCF_NARG(narg), name);
  }
  ccall_split(src, a->size, a->stride, r + a->reg, a->nreg);
}


/* ---- results ----------------------------------------------------------- */

/* Push the result: rb holds its register image (scalars; integers in the
** low bytes of an ffi_arg) or its memory image (records, the rest). */
CCALL_NOINLINE int ccall_pushmore(lua_State *L, CTState *S, const CCallDesc *d,
                                  const void *rb) {
  uint64_t u;
  int rconv = d->rconv, n;
  memcpy(&u, rb, sizeof u);
  if (rconv <= CR_VOID && (n = cconv_pushreg(L, rconv, u)) >= 0) return n;
  if (rconv == CR_AGG) {
    size_t size = d->rbytes;
    CData *cd = cdata_new(L, S, d->ret, size);
    memcpy(cdata_payload(cd), rb, size);
    return 1;
  }
  cconv_tolua(L, S, d->ret, (void *)rb, 0);
  return 1;
}

CCALL_INLINE int ccall_pushret(lua_State *L, CTState *S, const CCallDesc *d,
                               const void *rb) {
  uint64_t u;
  int rconv = d->rconv;
  memcpy(&u, rb, sizeof u);
  if (CCALL_LIKELY(rconv == CR_I32)) return cconv_pushreg(L, CCS_I32, u);
  if (rconv == CR_DOUBLE) return cconv_pushreg(L, CCS_DOUBLE, u);
  if (rconv == CR_VOID) return 0;
  if (rconv == CCS_I64 || rconv == CCS_U64) return cconv_pushreg(L, CCS_I64, u);
  if (rconv <= CR_U64) return cconv_pushreg(L, rconv, u);
  return ccall_pushmore(L, S, d, rb);
}

/* A record result of a direct call, from its register images. */
CCALL_NOINLINE int ccall_pushagg(lua_State *L, CTState *S, const CCallDesc *d,
                                 const CCallReg *ret) {
  CData *cd = cdata_new(L, S, d->ret, d->rbytes);
  ccall_join(ret, d->rnreg, d->rstride, (unsigned char *)cdata_payload(cd),
             d->rbytes);
  return 1;
}


/* ---- calls ------------------------------------------------------------- */

/* Name for messages: the closure's, or the type of a called cdata. */
static const char *ccall_name(CTState *S, const CCallDesc *d, const char *name,
                              char *buf, size_t n) {
  return name != NULL ? name : ccall_repr(S, d->fid, buf, n);
}

static int ccall_counterror(lua_State *L, CTState *S, const CCallDesc *d,
                            const char *name, int got) {
  char buf[160];
  return luaL_error(L, "wrong number of arguments for '%s' (expected %s%d, got %d)",
                    ccall_name(S, d, name, buf, sizeof buf),
                    d->variadic ? "at least " : "", (int)d->nargs, got);
}

/* Call through a direct invoker: arguments at base.., already counted.
** agg (a constant): the signature may have records (d->hasagg). */
CCALL_INLINE int ccall_direct(lua_State *L, CTState *S, const CCallDesc *d,
                              void *fptr, int base, const char *name,
                              const int agg) {
  CCallReg r[CCALL_MAXINT + CCALL_MAXFP], ret[CCALL_NRET];
  uint32_t i, n = d->nargs;
  lua_State *oldL;
  int *ep;
  for (i = 0; i < n; i++) {
    const CCallArg *a = &d->args[i];
    if (agg && a->conv == CA_AGG)
      ccall_aggarg(L, S, a, r, base + (int)i, (int)i + 1, name);
    else
      r[a->reg].u = ccall_arg(L, S, d, i, base + (int)i, (int)i + 1, name);
  }
  ep = &errno;
  oldL = S->curL;
  S->curL = L;
  *ep = S->errno_val;
  d->invoke(fptr, r, ret, d);
  S->errno_val = *ep;
  S->curL = oldL;
  if (CCALL_UNLIKELY(S->cb_error)) ccallback_raise(L, S);
  if (agg && d->rconv == CR_AGG) return ccall_pushagg(L, S, d, ret);
  return ccall_pushret(L, S, d, ret);
}

/* The Lua-to-C rule for a variadic argument: the type it passes as. */
static CTypeID ccall_vartype(lua_State *L, CTState *S, int idx, int narg,
                             const char *name, const CCallDesc *d) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER: return lua_isinteger(L, idx) ? CTID_INT64 : CTID_DOUBLE;
    case LUA_TSTRING: return CTID_CCHARP;
    case LUA_TBOOLEAN: return CTID_INT;
    case LUA_TNIL: case LUA_TLIGHTUSERDATA: return CTID_VOIDP;
    case LUA_TUSERDATA: case LUA_TFUNCTION: {
      CData *cd = cdata_test(L, S, idx);
      const CType *ct;
      CTypeID id, r = 0;
      char buf[128], nb[160];
      if (cd == NULL)
        return lua_type(L, idx) == LUA_TUSERDATA ? CTID_VOIDP : 0;
      id = cd->id;
      ct = ctype_get(S, id);
      switch (ct->kind) {
        case CT_BOOL: return CTID_INT;
        case CT_INT: case CT_ENUM: {
          const CType *it = cabi_intof(S, ct);
          if (it->size < 4) return CTID_INT;
          if (it->size == 4) return (it->flags & CTF_UNSIGNED) ? CTID_UINT : CTID_INT;
          return (it->flags & CTF_UNSIGNED) ? CTID_UINT64 : CTID_INT64;
        }
        case CT_FLOAT: return ct->size <= 8 ? CTID_DOUBLE : CTID_LDOUBLE;
        case CT_PTR: return id;
        case CT_ARRAY: r = ctype_ptr(S, ct->child, ct->flags & CTF_QUALS); break;
        case CT_FUNC: r = ctype_ptr(S, id, 0); break;
        default:
          luaL_error(L, "bad argument #%d to '%s' (cannot pass '%s' by value "
                     "to a variadic function)", narg,
                     ccall_name(S, d, name, nb, sizeof nb),
                     ccall_repr(S, id, buf, sizeof buf));
      }
      if (r == 0) luaL_error(L, "not enough memory");
      return r;
    }
    default: return 0;
  }
}

/* Per-call scratch: the C stack when small, else a userdata. */
static char *ccall_scratch(lua_State *L, char *stackbuf, size_t need) {
  if (need <= CCALL_STACKBUF) return stackbuf;
  return (char *)CCALL_ALIGN16((uintptr_t)lua_newuserdatauv(L, need + 15, 0));
}

/* Fill one fixed argument's slot for ffi_call. */
static void ccall_argslot(lua_State *L, CTState *S, const CCallDesc *d,
                          uint32_t i, void *slot, int idx, int narg,
                          const char *name) {
  const CCallArg *a = &d->args[i];
  if (a->conv == CA_AGG || a->conv == CA_OTHER) {
    memset(slot, 0, a->size);
    cconv_toarg(L, S, a->id, slot, idx, CCF_ARG | CCF_NARG(narg) |
                (a->conv == CA_AGG ? CCF_INIT : 0), name);
  } else {
    uint64_t v = ccall_arg(L, S, d, i, idx, narg, name);
    memcpy(slot, &v, sizeof v);
  }
}

/* The general path: count check, varargs, ffi_call. */
static int ccall_general(lua_State *L, CTState *S, const CCallDesc *d,
                         void *fptr, int base, const char *name) {
  int top = lua_gettop(L), nall = top - base + 1, i, nfix = (int)d->nargs;
  int nvar = nall - nfix;
  union { char b[CCALL_STACKBUF]; long double ld; void *p; } sb;
  char *buf, *rb;
  void **av;
  ffi_type **at = NULL;
  ffi_cif cif;
  const ffi_cif *cp = &d->cif;
  lua_State *oldL;
  int *ep;
  size_t need;
  if (d->variadic ? nall < nfix : nall != nfix)
    return ccall_counterror(L, S, d, name, nall);
  if (d->invoke != NULL) {
    if (d->hasagg) return ccall_direct(L, S, d, fptr, base, name, 1);
    return ccall_direct(L, S, d, fptr, base, name, 0);
  }
  need = d->bufsize + (size_t)nvar * 16 + d->rsize +
         CCALL_ALIGN16((size_t)nall * (sizeof(void *) + sizeof(ffi_type *)));
  buf = ccall_scratch(L, sb.b, need);
  rb = buf + d->bufsize + (size_t)nvar * 16;
  av = (void **)(void *)(rb + d->rsize);
  for (i = 0; i < nfix; i++) {
    const CCallArg *a = &d->args[i];
    av[i] = buf + a->off;
    ccall_argslot(L, S, d, (uint32_t)i, av[i], base + i, i + 1, name);
  }
  if (d->variadic) {
    ffi_status st;
    at = (ffi_type **)(av + nall);
    if (nfix) memcpy(at, d->atypes, (size_t)nfix * sizeof(ffi_type *));
    for (i = nfix; i < nall; i++) {
      int idx = base + i;
      char *slot = buf + d->bufsize + (size_t)(i - nfix) * 16;
      CTypeID vid = ccall_vartype(L, S, idx, i + 1, name, d);
      av[i] = slot;
      memset(slot, 0, 16);
      if (vid == 0) {
        cconv_argerror(L, S, CTID_VOIDP, idx, CCF_ARG | CCF_NARG(i + 1), name);
      } else if (lua_type(L, idx) == LUA_TNUMBER) {
        if (vid == CTID_INT64) { int64_t v = (int64_t)lua_tointeger(L, idx); memcpy(slot, &v, 8); }
        else { double v = (double)lua_tonumber(L, idx); memcpy(slot, &v, 8); }
      } else if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        memcpy(slot, &s, sizeof s);
      } else if (lua_type(L, idx) == LUA_TBOOLEAN) {
        int v = lua_toboolean(L, idx);
        memcpy(slot, &v, sizeof v);
      } else if (lua_type(L, idx) != LUA_TNIL) {
        cconv_toarg(L, S, vid, slot, idx, CCF_ARG | CCF_NARG(i + 1), name);
      }
      at[i] = cabi_ffitype(L, S, vid, 0);
    }
    st = ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, (unsigned)nfix, (unsigned)nall,
                          d->rtype, at);
    if (st != FFI_OK) {
      char nb[160];
      return luaL_error(L, "cannot prepare the variadic call to '%s'",
                        ccall_name(S, d, name, nb, sizeof nb));
    }
    cp = &cif;
  }
  ep = &errno;
  oldL = S->curL;
  S->curL = L;
  *ep = S->errno_val;
  ffi_call((ffi_cif *)cp, FFI_FN(fptr), rb, av);
  S->errno_val = *ep;
  S->curL = oldL;
  if (CCALL_UNLIKELY(S->cb_error)) ccallback_raise(L, S);
  return ccall_pushret(L, S, d, rb);
}


/* ---- library function closures ----------------------------------------- */

CCALL_NOINLINE int ccall_closureslow(lua_State *L, CCallFunc *f) {
  CCallDesc *d;
  if (f->lib->handle == NULL) clib_checkopen(L, (CLib *)f->lib);
  d = f->desc;
  if (d == NULL) {
    d = f->desc = ccall_getdesc(L, f->S, f->fid);
    f->nfast = d->invoke != NULL && !d->hasagg ? (int)d->nargs : -1;
  }
  if (d->hasagg && d->invoke != NULL && lua_gettop(L) == (int)d->nargs)
    return ccall_direct(L, f->S, d, f->fptr, 1, f->name, 1);
  return ccall_general(L, f->S, d, f->fptr, 1, f->name);
}

/* The hot path: one test covers "prepared, direct-callable, right number
** of arguments"; the library test reads a sentinel for ffi.C. */
static int ccall_closure(lua_State *L) {
  CCallFunc *f = (CCallFunc *)lua_touserdata(L, lua_upvalueindex(1));
  if (CCALL_LIKELY(lua_gettop(L) == f->nfast && f->lib->handle != NULL))
    return ccall_direct(L, f->S, f->desc, f->fptr, 1, f->name, 0);
  return ccall_closureslow(L, f);
}

#if CABI_DIRECT
/* Closures of functions with n <= 4 scalar parameters and a scalar result
** (f->nfast is -1 otherwise): the same, unrolled, and with the call made
** inline when every argument and the result are of integer class
** (pointers, strings, integers: the common case). */
CCALL_INLINE int ccall_fixed(lua_State *L, CCallFunc *f, const int n) {
  CTState *S = f->S;
  const CCallDesc *d = f->desc;
  CCallReg r[CCALL_MAXINT + CCALL_MAXFP], ret[CCALL_NRET];
  lua_State *oldL;
  int i, *ep;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
  for (i = 0; i < n; i++)
    r[d->args[i].reg].u = ccall_arg(L, S, d, (uint32_t)i, i + 1, i + 1, f->name);
  ep = &errno;
  oldL = S->curL;
  S->curL = L;
  *ep = S->errno_val;
  if (CCALL_LIKELY(d->inl == CC_INT)) {
    void *fn = f->fptr;
    switch (n) {
      case 0: ret[0].u = ((uint64_t (*)(void))fn)(); break;
      case 1: ret[0].u = ((uint64_t (*)(uint64_t))fn)(r[0].u); break;
      case 2: ret[0].u = ((uint64_t (*)(uint64_t, uint64_t))fn)(r[0].u, r[1].u); break;
      case 3:
        ret[0].u = ((uint64_t (*)(uint64_t, uint64_t, uint64_t))fn)(r[0].u, r[1].u, r[2].u);
        break;
      default:
        ret[0].u = ((uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t))fn)
                  (r[0].u, r[1].u, r[2].u, r[3].u);
        break;
    }
  } else if (d->inl == CC_DBL) {
    void *fn = f->fptr;
    switch (n) {
      case 0: ret[0].d = ((double (*)(void))fn)(); break;
      case 1: ret[0].d = ((double (*)(double))fn)(r[8].d); break;
      case 2: ret[0].d = ((double (*)(double, double))fn)(r[8].d, r[9].d); break;
      case 3:
        ret[0].d = ((double (*)(double, double, double))fn)(r[8].d, r[9].d, r[10].d);
        break;
      default:
        ret[0].d = ((double (*)(double, double, double, double))fn)
                  (r[8].d, r[9].d, r[10].d, r[11].d);
        break;
    }
  } else {
    d->invoke(f->fptr, r, ret, d);
  }
  S->errno_val = *ep;
  S->curL = oldL;
  if (CCALL_UNLIKELY(S->cb_error)) ccallback_raise(L, S);
  return ccall_pushret(L, S, d, ret);
}

#define CCALL_FIXED(n) \
  static int ccall_closure##n(lua_State *L) { \
    CCallFunc *f = (CCallFunc *)lua_touserdata(L, lua_upvalueindex(1)); \
    if (CCALL_LIKELY(lua_gettop(L) == f->nfast && f->lib->handle != NULL)) \
      return ccall_fixed(L, f, n); \
    return ccall_closureslow(L, f); \
  }
CCALL_FIXED(0) CCALL_FIXED(1) CCALL_FIXED(2) CCALL_FIXED(3) CCALL_FIXED(4)

static const lua_CFunction ccall_closures[5] = {
  ccall_closure0, ccall_closure1, ccall_closure2, ccall_closure3, ccall_closure4
};
#endif

/* The closure function for a function type: by arity when small. */
static lua_CFunction ccall_closurefor(CTState *S, CTypeID fid) {
#if CABI_DIRECT
  const CType *ft = ctype_get(S, fid);
  if (ft->kind == CT_FUNC && !(ft->flags & CTF_VARIADIC) && ft->nfield <= 4)
    return ccall_closures[ft->nfield];
#else
  (void)S; (void)fid;
#endif
  return ccall_closure;
}

void ccall_pushfunc(lua_State *L, CTState *S, CTypeID fid, void *fptr,
                    int lib, const char *name) {
  size_t len = strlen(name);
  CCallFunc *f;
  CLib *cl = NULL;
  CData *cd;
  if (lib != 0) {
    lib = lua_absindex(L, lib);
    cl = (CLib *)lua_touserdata(L, lib);
  }
  luaL_checkstack(L, 6, NULL);
  f = (CCallFunc *)lua_newuserdatauv(L, sizeof(CCallFunc) + len, 0);
  f->nfast = -1;
  f->fptr = fptr;
  f->desc = NULL;
  f->S = S;
  f->lib = cl != NULL ? cl : &ccall_nolib;
  f->fid = fid;
  memcpy(f->name, name, len + 1);
  lua_pushlightuserdata(L, f);
  lua_insert(L, -2);
  if (lib != 0) {
    lua_pushvalue(L, lib);
    lua_pushcclosure(L, ccall_closurefor(S, fid), 3);
  } else {
    lua_pushcclosure(L, ccall_closurefor(S, fid), 2);
  }
  /* closure -> its function cdata (payload: the address; user value 1:
  ** the library) */
  cffi_pushtable(L, S, CFFI_T_FUNCS);
  lua_pushvalue(L, -2);
  cd = cdata_newref(L, S, fid, fptr, lib, CDF_FUNC);
  cd->flags = (uint16_t)((cd->flags & ~CDF_REF) | CDF_FUNC);
  *(void **)cdata_payload(cd) = fptr;
  lua_rawset(L, -3);
  lua_pop(L, 1);
}


/* ---- calling cdata ----------------------------------------------------- */

int ccall_callcdata(lua_State *L, CTState *S, CData *cd) {
  const CType *ct = ctype_get(S, cd->id);
  CTypeID fid;
  void *fptr;
  char buf[128];
  if (ct->kind == CT_FUNC) {
    fid = cd->id;
    fptr = *(void **)cdata_payload(cd);
    if (cd->flags & CDF_FUNC) {
      if (lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA) {
        CLib *lib = (CLib *)lua_touserdata(L, -1);
        lua_pop(L, 1);
        clib_checkopen(L, lib);
      } else {
        lua_pop(L, 1);
      }
    }
  } else if (ct->kind == CT_PTR && ctype_get(S, ct->child)->kind == CT_FUNC) {
    fid = ct->child;
    fptr = *(void **)cdata_ptr(cd);
  } else {
    return luaL_error(L, "attempt to call a cdata<%s> value",
                      ccall_repr(S, cd->id, buf, sizeof buf));
  }
  if (fptr == NULL) return luaL_error(L, "attempt to call a NULL function pointer");
  return ccall_general(L, S, ccall_getdesc(L, S, fid), fptr, 2, NULL);
}


/* ---- ffi.errno, ffi._slowpath ------------------------------------------ */

int ccall_ffi_errno(lua_State *L, CTState *S) {
  int old = S->errno_val;
  if (!lua_isnoneornil(L, 1))
    S->errno_val = (int)luaL_checkinteger(L, 1);
  lua_pushinteger(L, old);
  return 1;
}

int ccall_ffi_slowpath(lua_State *L, CTState *S) {
  CCallState *cs = ccall_state(L, S);
  int old = cs->slow;
  if (lua_gettop(L) >= 1) {
    uint32_t i;
    cs->slow = lua_toboolean(L, 1);
    for (i = 0; i < cs->nbytype; i++) {
      CCallDesc *d = cs->bytype[i];
      if (d != NULL && d->dinvoke != NULL) {
        d->invoke = cs->slow ? ccall_inv_ffi : d->dinvoke;
        d->inl = cs->slow ? CC_NONE : d->cls;
      }
    }
  }
  lua_pushboolean(L, old);
  return 1;
}
