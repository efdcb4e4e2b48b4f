/*
** cabi.c: how C types are described to the ABI: libffi types and register
** classes.
**
** cabi_ffitype and cabi_aggtype give the ffi_type of a value (records laid
** out member by member when libffi would agree with our layout, else as
** units of their alignment, or as one opaque block when the ABI passes
** them in memory); cabi_aggplan says whether a small record travels in
** registers of a direct call.  Used when ccall.c prepares a descriptor
** (and for each variadic argument), never on the direct-call path.
*/
#include <string.h>

#include <ffi.h>

#include "cffi.h"
#include "cabi.h"

/* Records larger than this never pass in registers (x86-64 SysV: over 16
** bytes, memory class; AAPCS64: over 16 bytes by reference, except
** homogeneous fp/vector aggregates, at most 4 x 16 bytes; other ABIs:
** a generous bound): libffi then needs only their size and alignment, so
** they are described as one block, without walking their members. */
#if defined(__x86_64__)
#define CABI_BLOCKMIN 16
#elif defined(__aarch64__)
#define CABI_BLOCKMIN 64
#else
#define CABI_BLOCKMIN 256
#endif
#define CABI_MAXDEPTH 200     /* nesting of a record passed by value the
                                 type walkers follow (a chain of typedefs
                                 makes it as deep as one likes) */


/* ---- libffi types ------------------------------------------------------ */

static ffi_type *cabi_inttype(size_t size, int isunsigned) {
  switch (size) {
    case 1: return isunsigned ? &ffi_type_uint8 : &ffi_type_sint8;
    case 2: return isunsigned ? &ffi_type_uint16 : &ffi_type_sint16;
    case 4: return isunsigned ? &ffi_type_uint32 : &ffi_type_sint32;
    case 8: return isunsigned ? &ffi_type_uint64 : &ffi_type_sint64;
    default: return NULL;
  }
}

static ffi_type *cabi_floattype(size_t size) {
  if (size == 4) return &ffi_type_float;
  if (size == 8) return &ffi_type_double;
  return &ffi_type_longdouble;
}

/* The libffi type of a value of type id (NULL: cannot be passed by value). */
ffi_type *cabi_ffitype(lua_State *L, CTState *S, CTypeID id, int calls) {
  const CType *ct = ctype_get(S, id);
  switch (ct->kind) {
    case CT_BOOL: return &ffi_type_uint8;
    case CT_INT: case CT_ENUM:
      ct = cabi_intof(S, ct);
      return cabi_inttype(ct->size, ct->flags & CTF_UNSIGNED);
    case CT_FLOAT: return cabi_floattype(ct->size);
    case CT_PTR: case CT_REF: case CT_ARRAY: case CT_FUNC:
      return &ffi_type_pointer;
    case CT_STRUCT: case CT_UNION: case CT_COMPLEX:
      return cabi_aggtype(L, S, id, calls);
    default: return NULL;
  }
}

/*
** Aggregates.  A record whose members libffi can lay out itself (no
** bitfields, no packing, natural alignment: checked against our offsets)
** becomes a struct ffi_type of its members, arrays expanded element by
** element; anything else (unions, bitfields, packed records) becomes a
** sequence of units of its alignment, each an integer or, where only
** floating-point members cover it, a float/double: the classification
** both ABIs make.  Complex is a pair of its parts.  The types live in
** userdata anchored in the CALLS table at key -id.
*/

typedef struct CAbiAgg {
  ffi_type t;
  ffi_type *elems[1];  /* allocated longer, NULL-terminated */
} CAbiAgg;

typedef struct CAbiWalk {
  lua_State *L;
  CTState *S;
  int calls;
  ffi_type **out;      /* pass 2: where elements go (NULL: count only) */
  uint32_t n;          /* elements so far */
  size_t off;          /* pass 2: libffi's own running layout */
  int ok;              /* 0: libffi would lay it out differently */
  int deep;            /* nested deeper than CABI_MAXDEPTH */
} CAbiWalk;

static void cabi_emit(CAbiWalk *w, ffi_type *t, size_t off) {
  if (w->out != NULL) {
    size_t a = t->alignment ? t->alignment : 1;
    size_t o = (w->off + a - 1) / a * a;
    if (o != off) w->ok = 0;
    w->off = o + t->size;
    w->out[w->n] = t;
  }
  w->n++;
}

/* Elements of a value of type id at offset off; 0 when it needs units
** (or is nested too deeply: w->deep). */
static int cabi_walk(CAbiWalk *w, CTypeID id, size_t off, int depth) {
  CTState *S = w->S;
  const CType *ct = ctype_get(S, id);
  if (depth > CABI_MAXDEPTH) { w->deep = 1; return 0; }
  switch (ct->kind) {
    case CT_STRUCT: {
      uint32_t i, nf = ct->nfield;
      if (ct->flags & CTF_PACKED) return 0;
      for (i = 0; i < nf; i++) {
        const CField *f = ctype_field(S, ct, i);
        if (f->flags & CFF_CONSTVAL) continue;
        if (f->flags & (CFF_BITFIELD | CFF_PACKED)) return 0;
        if (!cabi_walk(w, f->type, off + f->offset, depth + 1)) return 0;
        ct = ctype_get(S, id);           /* the walk may add types */
      }
      return 1;
    }
    case CT_UNION: {
      ffi_type *t = cabi_aggtype(w->L, S, id, w->calls);
      if (t == NULL) return 0;
      cabi_emit(w, t, off);
      return 1;
    }
    case CT_ARRAY: {
      CTypeID eid = ct->child;
      size_t n = ct->count, esz, i;
      if ((ct->flags & (CTF_VLA | CTF_INCOMPLETE)) || ct->size == 0) return 1;
      esz = ctype_get(S, eid)->size;
      if (esz == 0) return 0;
      n = ct->size / esz;
      for (i = 0; i < n; i++)
        if (!cabi_walk(w, eid, off + i * esz, depth + 1)) return 0;
      return 1;
    }
    case CT_COMPLEX: {
      const CType *e = ctype_get(S, ct->child);
      ffi_type *t;
      if (e->kind != CT_FLOAT || (e->size != 4 && e->size != 8)) return 0;
      t = cabi_floattype(e->size);
      cabi_emit(w, t, off);
      cabi_emit(w, t, off + e->size);
      return 1;
    }
    case CT_VECTOR: case CT_VOID: case CT_FUNC:
      return 0;
    default: {
      ffi_type *t = cabi_ffitype(w->L, S, id, w->calls);
      if (t == NULL) return 0;
      cabi_emit(w, t, off);
      return 1;
    }
  }
}

/* Byte classes for the unit layout. */
enum { CB_PAD = 0, CB_INT, CB_FLOAT, CB_DOUBLE, CB_MIXFP };

static void cabi_markbytes(unsigned char *map, size_t size, size_t off,
                            size_t n, int cls) {
  size_t i;
  for (i = off; i < off + n && i < size; i++) {
    int old = map[i];
    if (old == CB_PAD || old == cls) map[i] = (unsigned char)cls;
    else if (old == CB_INT || cls == CB_INT) map[i] = CB_INT;
    else map[i] = CB_MIXFP;
  }
}

/* Mark the bytes of a value of type id at off; 0 when nested too deeply. */
static int cabi_mark(CTState *S, CTypeID id, unsigned char *map,
                      size_t size, size_t off, int depth) {
  const CType *ct = ctype_get(S, id);
  if (depth > CABI_MAXDEPTH) return 0;
  switch (ct->kind) {
    case CT_FLOAT:
      cabi_markbytes(map, size, off, ct->size,
                      ct->size == 4 ? CB_FLOAT : ct->size == 8 ? CB_DOUBLE : CB_INT);
      break;
    case CT_COMPLEX: case CT_VECTOR: {
      const CType *e = ctype_get(S, ct->child);
      int cls = e->kind != CT_FLOAT ? CB_INT :
                e->size == 4 ? CB_FLOAT : e->size == 8 ? CB_DOUBLE : CB_INT;
      cabi_markbytes(map, size, off, ct->size, cls);
      break;
    }
    case CT_ARRAY: {
      size_t esz = ctype_get(S, ct->child)->size, i, n;
      CTypeID eid = ct->child;
      if (esz == 0) break;
      n = ct->size / esz;
      for (i = 0; i < n; i++)
        if (!cabi_mark(S, eid, map, size, off + i * esz, depth + 1)) return 0;
      break;
    }
    case CT_STRUCT: case CT_UNION: {
      uint32_t i, nf = ct->nfield;
      for (i = 0; i < nf; i++) {
        const CField *f = ctype_field(S, ctype_get(S, id), i);
        if (f->flags & CFF_CONSTVAL) continue;
        if (f->flags & CFF_BITFIELD)
          cabi_markbytes(map, size, off + f->offset,
                          (f->bitpos + f->bitsize + 7) / 8, CB_INT);
        else if (!cabi_mark(S, f->type, map, size, off + f->offset, depth + 1))
          return 0;
      }
      break;
    }
    default:
      cabi_markbytes(map, size, off, ct->size, CB_INT);
      break;
  }
  return 1;
}

/* Beyond CABI_MAXDEPTH a record's classification is not known: refuse. */
static void cabi_deeperror(lua_State *L, CTState *S, CTypeID id) {
  char buf[128];
  luaL_error(L, "cannot pass or return '%s' by value (nested too deeply)",
             ctype_repr(S, id, buf, sizeof buf));
}

static ffi_type *cabi_unitclass(const unsigned char *map, size_t u) {
  int seen = 0;
  size_t i;
  for (i = 0; i < u; i++) seen |= 1 << map[i];
  if ((seen & (1 << CB_INT)) || seen <= 1) return cabi_inttype(u, 1);
  if (seen == (1 << CB_FLOAT) && u == 4) return &ffi_type_float;
  if (seen == (1 << CB_DOUBLE) && u == 8) return &ffi_type_double;
#if defined(__x86_64__)
  /* SysV classifies by eightbyte: any floating-point mix is SSE. */
  if (u == 8) return &ffi_type_double;
  if (u == 4) return &ffi_type_float;
#endif
  return cabi_inttype(u, 1);
}

static CAbiAgg *cabi_newagg(lua_State *L, uint32_t n, size_t size,
                              size_t align) {
  CAbiAgg *a = (CAbiAgg *)lua_newuserdatauv(L,
      sizeof(CAbiAgg) + n * sizeof(ffi_type *), 0);
  memset(a, 0, sizeof(CAbiAgg) + n * sizeof(ffi_type *));
  a->t.size = size;
  a->t.alignment = (unsigned short)align;
  a->t.type = FFI_TYPE_STRUCT;
  a->t.elements = a->elems;
  return a;
}

static ffi_type *cabi_unitagg(lua_State *L, CTState *S, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  size_t size = ct->size, align = ct->align ? ct->align : 1;
  size_t u = align > 8 ? 8 : align, i, n;
  unsigned char small[256], *map = small;
  CAbiAgg *a;
  if (size % u != 0) u = 1;
  n = size / u;
  if (size > sizeof small) {
    map = (unsigned char *)lua_newuserdatauv(L, size, 0);
  }
  memset(map, 0, size);
  if (!cabi_mark(S, id, map, size, 0, 0))
    cabi_deeperror(L, S, id);
  a = cabi_newagg(L, (uint32_t)n, size, align);
  for (i = 0; i < n; i++) a->elems[i] = cabi_unitclass(map + i * u, u);
  a->elems[n] = NULL;
  if (map != small) lua_remove(L, -2);
  return &a->t;
}

#if defined(__x86_64__)
/* SysV passes an aggregate with a misaligned member (packed records) in
** memory.  Checked for sizes up to 16 bytes: larger ones go there anyway. */
static int cabi_misaligned(CTState *S, CTypeID id, size_t off, int depth) {
  const CType *ct = ctype_get(S, id);
  if (depth > CABI_MAXDEPTH) return 0;   /* the walk refuses it */
  switch (ct->kind) {
    case CT_STRUCT: case CT_UNION: {
      uint32_t i, nf = ct->nfield;
      for (i = 0; i < nf; i++) {
        const CField *f = ctype_field(S, ctype_get(S, id), i);
        if (f->flags & (CFF_CONSTVAL | CFF_BITFIELD)) continue;
        if (cabi_misaligned(S, f->type, off + f->offset, depth + 1)) return 1;
      }
      return 0;
    }
    case CT_ARRAY: {
      CTypeID eid = ct->child;
      size_t esz = ctype_get(S, eid)->size, i, n;
      if (esz == 0) return 0;
      n = ct->size / esz;
      for (i = 0; i < n && i < 16; i++)
        if (cabi_misaligned(S, eid, off + i * esz, depth + 1)) return 1;
      return 0;
    }
    default:
      return ct->align > 1 && off % ct->align != 0;
  }
}

#endif

/* A record libffi passes in memory (x86-64) or by reference (aarch64)
** whatever its size, described without its members: its only element
** claims 64 bytes (over x86-64's 32-byte limit for registers; never an
** aarch64 homogeneous fp aggregate).  libffi reads only the outer size
** and alignment to copy it. */
typedef struct CAbiMemAgg {
  ffi_type t;
  ffi_type *elems[2];
  ffi_type big;
  ffi_type *bigelems[2];
} CAbiMemAgg;

static ffi_type *cabi_memagg(lua_State *L, size_t size, size_t align) {
  CAbiMemAgg *m = (CAbiMemAgg *)lua_newuserdatauv(L, sizeof(CAbiMemAgg), 0);
  memset(m, 0, sizeof *m);
  m->t.size = size;
  m->t.alignment = (unsigned short)align;
  m->t.type = FFI_TYPE_STRUCT;
  m->t.elements = m->elems;
  m->elems[0] = &m->big;
  m->big.size = 64;
  m->big.alignment = 1;
  m->big.type = FFI_TYPE_STRUCT;
  m->big.elements = m->bigelems;
  m->bigelems[0] = &ffi_type_uint8;
  return &m->t;
}

/* The (cached) libffi type of a struct, union or complex; NULL when it
** cannot be passed by value.  Leaves the stack as it was. */
ffi_type *cabi_aggtype(lua_State *L, CTState *S, CTypeID id, int calls) {
  const CType *ct;
  ffi_type *t = NULL;
  CAbiWalk w;
  size_t size, align;
  int ok;
  lua_rawgeti(L, calls, -(lua_Integer)id);
  if (lua_type(L, -1) == LUA_TUSERDATA) {
    t = (ffi_type *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return t;
  }
  lua_pop(L, 1);
  ct = ctype_get(S, id);
  if ((ct->flags & (CTF_INCOMPLETE | CTF_VLA)) || ct->size == 0 ||
      ct->size > CABI_MAXBYVAL || ct->align > CABI_MAXALIGN)
    return NULL;
  size = ct->size;
  align = ct->align ? ct->align : 1;
  luaL_checkstack(L, 8, "too many nested types");
  if (size > CABI_BLOCKMIN && ctype_isrecord(ct)) {
    t = cabi_memagg(L, size, align);
    lua_rawseti(L, calls, -(lua_Integer)id);
    return t;
  }
#if defined(__x86_64__)
  if (size <= 16 && cabi_misaligned(S, id, 0, 0)) {
    t = cabi_memagg(L, size, align);
    lua_rawseti(L, calls, -(lua_Integer)id);
    return t;
  }
#endif
  w.L = L; w.S = S; w.calls = calls; w.out = NULL; w.n = 0; w.off = 0; w.ok = 1;
  w.deep = 0;
  ok = ct->kind != CT_UNION && cabi_walk(&w, id, 0, 0);
  if (w.deep) cabi_deeperror(L, S, id);
  if (ok && w.n > 0) {
    CAbiAgg *a = cabi_newagg(L, w.n, size, align);
    w.out = a->elems; w.n = 0; w.off = 0; w.ok = 1;
    cabi_walk(&w, id, 0, 0);
    a->elems[w.n] = NULL;
    if (w.ok && (w.off + align - 1) / align * align == size) t = &a->t;
    else lua_pop(L, 1);
  }
  if (t == NULL) {
    ct = ctype_get(S, id);
    if (ct->kind == CT_COMPLEX && ctype_get(S, ct->child)->kind != CT_FLOAT)
      return NULL;
    t = cabi_unitagg(L, S, id);
  }
  lua_rawseti(L, calls, -(lua_Integer)id);
  return t;
}


/* ---- small records in registers ---------------------------------------- */

/*
** A direct call can pass a small record (or complex number) whose leaves
** are all integers/pointers or all float/double where the ABI puts it in
** consecutive registers of one file, each holding `stride` bytes of its
** memory image:
** - x86-64 SysV: up to 16 bytes, one register per eightbyte (an all-fp
**   record is SSE class, an all-integer one INTEGER class; records mixing
**   the two, packed ones and anything else go through libffi);
** - aarch64 AAPCS64: a homogeneous fp aggregate of 1 to 4 floats or
**   doubles takes one fp register per member; an all-integer record of up
**   to 16 bytes takes one or two integer registers.
** Results come back the same way (x86-64: rax:rdx / xmm0:xmm1; aarch64:
** x0:x1 / d0..d3), read through a function type returning a record of the
** same class.  ffi._slowpath makes the same calls through the ffi_cif.
*/
typedef struct CAbiLeaves {
  uint32_t nint, nfp;
  size_t fpsize;       /* size of the fp leaves, (size_t)-1 when mixed */
  int bad;             /* something libffi must handle */
} CAbiLeaves;

static void cabi_fpleaf(CAbiLeaves *lv, size_t size) {
  lv->nfp++;
  if (lv->fpsize == 0) lv->fpsize = size;
  else if (lv->fpsize != size) lv->fpsize = (size_t)-1;
}

static void cabi_leaves(CTState *S, CTypeID id, CAbiLeaves *lv, int depth) {
  const CType *ct = ctype_get(S, id);
  if (lv->bad || depth > 8 || lv->nint + lv->nfp > 16) { lv->bad = 1; return; }
  switch (ct->kind) {
    case CT_BOOL: case CT_INT: case CT_ENUM: case CT_PTR:
      if (ct->size == 0 || ct->size > 8) lv->bad = 1;
      else lv->nint++;
      return;
    case CT_FLOAT:
      if (ct->size == sizeof(float) || ct->size == sizeof(double))
        cabi_fpleaf(lv, ct->size);
      else
        lv->bad = 1;
      return;
    case CT_COMPLEX: {
      const CType *e = ctype_get(S, ct->child);
      if (e->kind == CT_FLOAT && (e->size == sizeof(float) || e->size == sizeof(double))) {
        cabi_fpleaf(lv, e->size);
        cabi_fpleaf(lv, e->size);
      } else {
        lv->bad = 1;
      }
      return;
    }
    case CT_ARRAY: {
      CTypeID eid = ct->child;
      size_t esz = ctype_get(S, eid)->size, i, n;
      if ((ct->flags & (CTF_VLA | CTF_INCOMPLETE)) || ct->size == 0 || esz == 0) {
        lv->bad = 1;
        return;
      }
      n = ct->size / esz;
      for (i = 0; i < n && !lv->bad; i++) cabi_leaves(S, eid, lv, depth + 1);
      return;
    }
    case CT_STRUCT: {
      uint32_t i, nf = ct->nfield;
      if ((ct->flags & (CTF_PACKED | CTF_VLA | CTF_FLEX | CTF_INCOMPLETE)) ||
          ct->size == 0) {
        lv->bad = 1;
        return;
      }
      for (i = 0; i < nf && !lv->bad; i++) {
        const CField *f = ctype_field(S, ctype_get(S, id), i);
        if (f->flags & CFF_CONSTVAL) continue;
        if (f->flags & (CFF_BITFIELD | CFF_PACKED)) { lv->bad = 1; return; }
        cabi_leaves(S, f->type, lv, depth + 1);
      }
      return;
    }
    default:             /* unions, vectors, long double... */
      lv->bad = 1;
      return;
  }
}

/* 1 with *p filled when a record of type id passes in registers. */
int cabi_aggplan(CTState *S, CTypeID id, CAbiAggPlan *p) {
#if CABI_DIRECT
  const CType *ct = ctype_get(S, id);
  size_t size = ct->size;
  CAbiLeaves lv;
  if (size == 0 || size > 32 || ct->align > 8) return 0;
  memset(&lv, 0, sizeof lv);
  cabi_leaves(S, id, &lv, 0);
  if (lv.bad || lv.nint + lv.nfp == 0) return 0;
#if defined(__x86_64__)
  if (size > 16 || (lv.nint > 0 && lv.nfp > 0)) return 0;
  p->fp = lv.nfp > 0;
  p->stride = 8;
  p->nreg = (uint8_t)((size + 7) / 8);
  return 1;
#else
  if (lv.nint == 0 && lv.nfp <= 4 && (lv.fpsize == 4 || lv.fpsize == 8) &&
      size == lv.nfp * lv.fpsize) {
    p->fp = 1;
    p->stride = (uint8_t)lv.fpsize;
    p->nreg = (uint8_t)lv.nfp;
    return 1;
  }
  if (lv.nfp > 0 || size > 16) return 0;
  p->fp = 0;
  p->stride = 8;
  p->nreg = (uint8_t)((size + 7) / 8);
  return 1;
#endif
#else
  (void)S; (void)id; (void)p;
  return 0;
#endif
}
