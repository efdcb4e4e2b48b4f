/*
** ctype.c: the type table.  Primitive types at fixed ids, interned derived
** types (pointers, references, arrays, vectors, functions), records laid
** out as gcc lays them out, declared names, and cdef transactions.
** Plain C: never touches a lua_State; allocation failures are reported.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cffi.h"

/* Largest object size we lay out: keeps bit positions inside uint64_t. */
#define CTYPE_MAXSIZE   (SIZE_MAX >> 4)
/* Nesting limit for walks through records and declarators. */
#define CTYPE_MAXDEPTH  64
/* gcc caps vector alignment at BIGGEST_ALIGNMENT (16 on x86-64/aarch64). */
#define CTYPE_VECALIGN  16

/* ---------------------------------------------------------------------- */
/* Private state: the string arena and its intern set, and misc flags.    */

typedef struct CTBlock {
  struct CTBlock *next;
  size_t used, size;
  char data[];
} CTBlock;

struct CTArena {
  CTBlock *blocks;
  const char **strs;       /* open-addressing set of interned strings */
  uint32_t nstrs, szstrs;
  CTypeID *pend;           /* arrays made of a not-yet-sized element */
  uint32_t npend, szpend;
};

typedef struct CTUndo {
  CTypeID id;
  CType old;
} CTUndo;

typedef struct CTTxn {
  int level;               /* nested begins are counted, not stacked */
  uint32_t ntab, nfields, nnames;
  unsigned pack;
  int npack;
  unsigned packstack[sizeof(((CTState *)0)->packstack) / sizeof(unsigned)];
  CTUndo *undo;            /* old records changed in place */
  uint32_t nundo, szundo;
} CTTxn;

/* Grow a vector to hold `need` elements; NULL (p unchanged) on failure. */
static void *ctype_growvec(void *p, uint32_t *sz, uint32_t need, size_t elsz) {
  uint32_t n = *sz ? *sz : 16;
  void *q;
  if (need <= *sz) return p;
  while (n < need) {
    if (n > UINT32_MAX / 2) return NULL;
    n *= 2;
  }
  if ((size_t)n > SIZE_MAX / elsz) return NULL;
  q = realloc(p, (size_t)n * elsz);
  if (q) *sz = n;
  return q;
}

static size_t ctype_roundup(size_t x, size_t a) {
  return (x + a - 1) / a * a;
}

static uint64_t ctype_roundbits(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

/* ---------------------------------------------------------------------- */
/* Strings.                                                               */

static uint32_t ctype_hashstr(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

/* z (NUL-terminated) equals s[0..len) (which may hold NULs)?  Never reads
** past either.  Byte by byte: names are short and most mismatches show at
** the first byte. */
static int ctype_streq(const char *z, const char *s, size_t len) {
  size_t i;
  if (z == NULL)
    return 0;
  for (i = 0; i < len; i++)
    if (z[i] != s[i] || z[i] == '\0')
      return 0;
  return z[len] == '\0';
}

static char *ctype_alloc(struct CTArena *A, size_t n) {
  CTBlock *b = A->blocks;
  if (b == NULL || b->size - b->used < n) {
    size_t sz = n > 4000 ? n : 4000;
    if (sz > SIZE_MAX - sizeof(CTBlock)) return NULL;
    b = malloc(sizeof(CTBlock) + sz);
    if (b == NULL) return NULL;
    b->used = 0;
    b->size = sz;
    b->next = A->blocks;
    A->blocks = b;
  }
  b->used += n;
  return b->data + b->used - n;
}

static int ctype_strgrow(struct CTArena *A) {
  uint32_t nsz = A->szstrs ? A->szstrs * 2 : 256, i, j;
  const char **ns;
  if (nsz < A->szstrs) return 0;
  ns = calloc(nsz, sizeof(*ns));
  if (ns == NULL) return 0;
  for (i = 0; i < A->szstrs; i++) {
    const char *z = A->strs[i];
    if (z == NULL) continue;
    for (j = ctype_hashstr(z, strlen(z)) & (nsz - 1); ns[j]; j = (j + 1) & (nsz - 1)) {}
    ns[j] = z;
  }
  free(A->strs);
  A->strs = ns;
  A->szstrs = nsz;
  return 1;
}

const char *ctype_str(CTState *S, const char *s, size_t len) {
  struct CTArena *A = S->arena;
  uint32_t i, m;
  char *p;
  if (A->nstrs + 1 > A->szstrs / 2 && !ctype_strgrow(A)) return NULL;
  m = A->szstrs - 1;
  for (i = ctype_hashstr(s, len) & m; A->strs[i]; i = (i + 1) & m)
    if (ctype_streq(A->strs[i], s, len)) return A->strs[i];
  if (len >= SIZE_MAX / 2 || (p = ctype_alloc(A, len + 1)) == NULL) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  A->strs[i] = p;
  A->nstrs++;
  return p;
}

/* ---------------------------------------------------------------------- */
/* The type table and interning.                                          */

static uint64_t ctype_mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x100000001b3ull;
  return h ^ (h >> 29);
}

static int ctype_interned(const CType *ct) {
  switch (ct->kind) {
  case CT_PTR: return !(ct->flags & CTF_VALIST);
  case CT_REF: case CT_ARRAY: case CT_VECTOR: case CT_FUNC: return 1;
  default: return 0;
  }
}

/* Top-level qualifiers of a parameter do not change a function's type. */
#define CTYPE_PARAMKEY(f)  ((f)->flags & ~(uint32_t)(CFF_CONST|CFF_VOLATILE))

/* Hash of the defining fields of a derived type (params: CT_FUNC only). */
static uint32_t ctype_hashkey(const CType *k, const CField *params) {
  uint64_t h = ctype_mix(ctype_mix(0xcbf29ce484222325ull, k->kind), k->flags);
  uint32_t i;
  h = ctype_mix(h, k->child);
  if (k->kind == CT_ARRAY) h = ctype_mix(h, k->count);
  else if (k->kind == CT_VECTOR) h = ctype_mix(h, k->size);
  else if (k->kind == CT_FUNC) {
    h = ctype_mix(h, k->nfield);
    for (i = 0; i < k->nfield; i++)
      h = ctype_mix(ctype_mix(h, params[i].type), CTYPE_PARAMKEY(&params[i]));
  }
  return (uint32_t)(h ^ (h >> 32));
}

static int ctype_keyeq(CTState *S, const CType *k, const CField *params,
                       const CType *ct) {
  uint32_t i;
  if (k->kind != ct->kind || k->flags != ct->flags || k->child != ct->child)
    return 0;
  switch (k->kind) {
  case CT_ARRAY: return k->count == ct->count;
  case CT_VECTOR: return k->size == ct->size;
  case CT_FUNC:
    if (k->nfield != ct->nfield) return 0;
    for (i = 0; i < k->nfield; i++) {
      const CField *f = &S->fields[ct->field + i];
      if (f->type != params[i].type || CTYPE_PARAMKEY(f) != CTYPE_PARAMKEY(&params[i]))
        return 0;
    }
    return 1;
  default: return 1;
  }
}

static void ctype_hashput(CTState *S, CTypeID id) {
  CType *ct = ctype_get(S, id);
  const CField *params = ct->kind == CT_FUNC && ct->nfield ? &S->fields[ct->field] : NULL;
  uint32_t b = ctype_hashkey(ct, params) & (S->thashsize - 1);
  ct->next = S->thash[b];
  S->thash[b] = id;
}

/* Rebuild the interning buckets (after growth or a rollback). */
static void ctype_rehash(CTState *S) {
  CTypeID id;
  memset(S->thash, 0, S->thashsize * sizeof(CTypeID));
  for (id = 1; id < S->ntab; id++)
    if (ctype_interned(ctype_get(S, id))) ctype_hashput(S, id);
}

/* Keep about one type per bucket; on OOM keep the old (longer) chains. */
static void ctype_hashgrow(CTState *S) {
  uint32_t nsz = S->thashsize * 2;
  CTypeID *nh;
  if (S->ntab <= S->thashsize || nsz < S->thashsize) return;
  nh = realloc(S->thash, nsz * sizeof(CTypeID));
  if (nh == NULL) return;
  S->thash = nh;
  S->thashsize = nsz;
  ctype_rehash(S);
}

/* A new zeroed type record; 0 on OOM. */
static CTypeID ctype_new(CTState *S) {
  CType *tab;
  CTypeID id;
  if (S->ntab == UINT32_MAX) return 0;
  tab = ctype_growvec(S->tab, &S->sztab, S->ntab + 1, sizeof(CType));
  if (tab == NULL) return 0;
  S->tab = tab;
  id = S->ntab++;
  memset(&tab[id], 0, sizeof(CType));
  tab[id].align = 1;
  return id;
}

/* Reserve n more fields; returns the index of the first or UINT32_MAX.
** *src is rebased when it points into the table being moved. */
static uint32_t ctype_newfields(CTState *S, uint32_t n, const CField **src) {
  uintptr_t old = (uintptr_t)S->fields, p = (uintptr_t)*src;
  CField *fs;
  if (n == 0) return S->nfields;
  if (n > UINT32_MAX - 1 - S->nfields) return UINT32_MAX;
  fs = ctype_growvec(S->fields, &S->szfields, S->nfields + n, sizeof(CField));
  if (fs == NULL) return UINT32_MAX;
  S->fields = fs;
  if (old && p >= old && p < old + (uintptr_t)S->nfields * sizeof(CField))
    *src = &fs[(p - old) / sizeof(CField)];
  return S->nfields;
}

static CTypeID ctype_intern(CTState *S, const CType *k, const CField *params) {
  uint32_t h = ctype_hashkey(k, params), fi = 0;
  CTypeID id;
  for (id = S->thash[h & (S->thashsize - 1)]; id; id = ctype_get(S, id)->next)
    if (ctype_keyeq(S, k, params, ctype_get(S, id))) return id;
  if (k->kind == CT_FUNC) {
    fi = ctype_newfields(S, k->nfield, &params);
    if (fi == UINT32_MAX) return 0;
  }
  if ((id = ctype_new(S)) == 0) return 0;
  *ctype_get(S, id) = *k;
  if (k->kind == CT_FUNC) {
    if (k->nfield) memmove(&S->fields[fi], params, k->nfield * sizeof(CField));
    S->nfields += k->nfield;
    ctype_get(S, id)->field = fi;
  }
  ctype_hashput(S, id);
  ctype_hashgrow(S);
  return id;
}

static CTypeID ctype_ptrlike(CTState *S, int kind, CTypeID to, unsigned quals) {
  CType k;
  memset(&k, 0, sizeof k);
  k.kind = (uint8_t)kind;
  k.flags = (uint16_t)(quals & CTF_QUALS);
  k.child = to;
  k.size = sizeof(void *);
  k.align = _Alignof(void *);
  return ctype_intern(S, &k, NULL);
}

CTypeID ctype_ptr(CTState *S, CTypeID to, unsigned quals) {
  return ctype_ptrlike(S, CT_PTR, to, quals);
}

CTypeID ctype_ref(CTState *S, CTypeID to, unsigned quals) {
  return ctype_ptrlike(S, CT_REF, to, quals);
}

static int ctype_addpending(CTState *S, CTypeID id) {
  struct CTArena *A = S->arena;
  CTypeID *p;
  uint32_t i;
  for (i = 0; i < A->npend; i++)
    if (A->pend[i] == id) return 1;
  p = ctype_growvec(A->pend, &A->szpend, A->npend + 1, sizeof(CTypeID));
  if (p == NULL) return 0;
  A->pend = p;
  p[A->npend++] = id;
  return 1;
}

CTypeID ctype_array(CTState *S, CTypeID elem, size_t n, unsigned flags) {
  const CType *e = ctype_get(S, elem);
  CTypeID id;
  CType k;
  memset(&k, 0, sizeof k);
  k.kind = CT_ARRAY;
  k.flags = (uint16_t)(flags & (CTF_QUALS|CTF_VLA|CTF_INCOMPLETE));
  k.child = elem;
  k.align = e->align;
  k.count = (k.flags & (CTF_VLA|CTF_INCOMPLETE)) ? 0 : n;
  if (e->size && k.count > SIZE_MAX / e->size) return 0;
  k.size = k.count * e->size;
  id = ctype_intern(S, &k, NULL);      /* e is stale from here */
  /* Element not sized yet (forward struct): sized when it is completed. */
  if (id && k.size == 0 && k.count > 0 && !ctype_addpending(S, id)) return 0;
  return id;
}

CTypeID ctype_vector(CTState *S, CTypeID elem, size_t bytes) {
  const CType *e = ctype_get(S, elem);
  CType k;
  memset(&k, 0, sizeof k);
  k.kind = CT_VECTOR;
  k.child = elem;
  k.size = bytes;
  k.count = e->size ? bytes / e->size : 0;
  k.align = bytes >= CTYPE_VECALIGN ? CTYPE_VECALIGN
          : (bytes & (bytes - 1)) == 0 && bytes ? (uint32_t)bytes : e->align;
  return ctype_intern(S, &k, NULL);
}

CTypeID ctype_func(CTState *S, CTypeID ret, const CField *params, uint32_t n,
                   unsigned flags) {
  CType k;
  memset(&k, 0, sizeof k);
  k.kind = CT_FUNC;
  k.flags = (uint16_t)(flags & CTF_VARIADIC);
  k.child = ret;
  k.nfield = n;
  k.align = 1;
  return ctype_intern(S, &k, params);
}

int ctype_isfuncptr(CTState *S, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  return ct->kind == CT_PTR && ctype_get(S, ct->child)->kind == CT_FUNC;
}

/* ---------------------------------------------------------------------- */
/* Transactions: the undo log of records changed in place.               */

/* Remember the current record `id` before changing it in place. */
static int ctype_save(CTState *S, CTypeID id) {
  CTTxn *T = S->txn;
  CTUndo *u;
  if (T == NULL || id >= T->ntab) return 1;
  u = ctype_growvec(T->undo, &T->szundo, T->nundo + 1, sizeof(CTUndo));
  if (u == NULL) return 0;
  T->undo = u;
  u[T->nundo].id = id;
  u[T->nundo].old = *ctype_get(S, id);
  T->nundo++;
  return 1;
}

static void ctype_namerehash(CTState *S);

/* Forget pending arrays that a rollback removed. */
static void ctype_prunepending(CTState *S) {
  struct CTArena *A = S->arena;
  uint32_t i, j = 0;
  for (i = 0; i < A->npend; i++)
    if (A->pend[i] < S->ntab) A->pend[j++] = A->pend[i];
  A->npend = j;
}

int ctype_begin(CTState *S) {
  CTTxn *T = S->txn;
  if (T) {
    T->level++;
    return 0;
  }
  if ((T = calloc(1, sizeof(CTTxn))) == NULL) return -2;
  T->level = 1;
  T->ntab = S->ntab;
  T->nfields = S->nfields;
  T->nnames = S->nnames;
  T->pack = S->pack;
  T->npack = S->npack;
  memcpy(T->packstack, S->packstack, sizeof T->packstack);
  S->txn = T;
  return 0;
}

static void ctype_endtxn(CTState *S) {
  CTTxn *T = S->txn;
  if (--T->level > 0) return;
  free(T->undo);
  free(T);
  S->txn = NULL;
}

void ctype_commit(CTState *S) {
  if (S->txn) ctype_endtxn(S);
}

/* Undo everything since the outermost begin; an inner rollback does the
** same and leaves the transaction open. */
void ctype_rollback(CTState *S) {
  CTTxn *T = S->txn;
  uint32_t i;
  if (T == NULL) return;
  for (i = T->nundo; i-- > 0; ) {
    CType *ct = ctype_get(S, T->undo[i].id);
    uint16_t mt = ct->flags & CTF_METATYPE;
    *ct = T->undo[i].old;
    ct->flags |= mt;
  }
  T->nundo = 0;
  S->ntab = T->ntab;
  ctype_prunepending(S);
  S->nfields = T->nfields;
  S->nnames = T->nnames;
  S->pack = T->pack;
  S->npack = T->npack;
  memcpy(S->packstack, T->packstack, sizeof T->packstack);
  ctype_rehash(S);
  ctype_namerehash(S);
  ctype_endtxn(S);
}

/* ---------------------------------------------------------------------- */
/* Records: gcc's layout (SysV x86-64 / AAPCS64, PCC_BITFIELD_TYPE_MATTERS). */

typedef struct CTLayout {
  uint64_t pos;            /* next free bit (struct) */
  size_t maxsize;          /* largest member in bytes (union) */
  size_t align;            /* record alignment so far */
  unsigned pack;           /* #pragma pack cap, 0 = none */
  int packed, isunion;
  char *err;
} CTLayout;

static int ctype_error(char *err, const char *fmt, const char *name) {
  if (err) snprintf(err, 128, fmt, name ? name : "<anonymous>");
  return -1;
}

/* Alignment of a non-bitfield member.  attribute packed keeps an explicit
** member alignment; #pragma pack caps everything. */
static size_t ctype_memberalign(const CTLayout *L, const CField *f, size_t ta) {
  int packed = L->packed || (f->flags & CFF_PACKED);
  size_t a;
  if (f->attralign) a = packed ? f->attralign : (ta > f->attralign ? ta : f->attralign);
  else a = packed ? 1 : ta;
  if (L->pack && a > L->pack) a = L->pack;
  return a;
}

/* Does a w-bit field at bit pos cross more units of its type's alignment
** than the type itself spans?  (gcc's excess_unit_span) */
static int ctype_excess(uint64_t pos, uint64_t w, size_t ta, size_t tsz) {
  uint64_t abits = (uint64_t)ta * 8, off = pos % abits;
  return (off + w + abits - 1) / abits > tsz / ta;
}

static void ctype_bitfield(CTLayout *L, CField *f, const CType *t) {
  int packed = L->packed || (f->flags & CFF_PACKED);
  uint64_t w = f->bitsize;
  size_t ta = t->align, da = f->attralign, tal;
  if (w == 0) {            /* aligns the next field; pack/packed do not apply */
    if (!L->isunion) L->pos = ctype_roundbits(L->pos, (uint64_t)ta * 8);
  } else {
    if (L->pack && da > L->pack) da = L->pack;
    if (!L->isunion) {
      if (da) L->pos = ctype_roundbits(L->pos, (uint64_t)da * 8);
      /* Not across a boundary of its type, unless packed (then bit by bit). */
      if (!L->pack && !packed && ctype_excess(L->pos, w, ta, t->size))
        L->pos = ctype_roundbits(L->pos, (uint64_t)ta * 8);
    }
    /* Only named bitfields give the record their type's alignment. */
    if (f->name) {
      tal = L->pack ? (ta < L->pack ? ta : L->pack) : packed ? 1 : ta;
      if (tal > L->align) L->align = tal;
      if (da > L->align) L->align = da;
    }
  }
  if (L->isunion) {
    f->offset = 0;
    f->bitpos = 0;
    if ((w + 7) / 8 > L->maxsize) L->maxsize = (w + 7) / 8;
  } else {
    f->offset = L->pos / 8;
    f->bitpos = L->pos % 8;
    L->pos += w;
  }
}

/* The innermost element type of (arrays of) t. */
static const CType *ctype_elem(CTState *S, const CType *t) {
  while (t->kind == CT_ARRAY) t = ctype_get(S, t->child);
  return t;
}

static int ctype_checkmember(CTState *S, const CField *f, int last, char *err) {
  const CType *t = ctype_get(S, f->type), *e = ctype_elem(S, t);
  if (f->attralign & (f->attralign - 1))
    return ctype_error(err, "requested alignment of '%s' is not a power of 2", f->name);
  if (f->flags & CFF_BITFIELD) {
    if (t->kind != CT_INT && t->kind != CT_BOOL && t->kind != CT_ENUM)
      return ctype_error(err, "bit-field '%s' has invalid type", f->name);
    if (t->flags & CTF_INCOMPLETE)
      return ctype_error(err, "field '%s' has incomplete type", f->name);
    if (f->bitsize > t->size * 8 || (t->kind == CT_BOOL && f->bitsize > 1))
      return ctype_error(err, "width of '%s' exceeds its type", f->name);
    if (f->bitsize == 0 && f->name)
      return ctype_error(err, "zero width for bit-field '%s'", f->name);
    return 0;
  }
  if (t->kind == CT_FUNC)
    return ctype_error(err, "field '%s' declared as a function", f->name);
  if (e->kind == CT_VOID || e->kind == CT_FUNC || (e->flags & CTF_INCOMPLETE))
    return ctype_error(err, "field '%s' has incomplete type", f->name);
  if (t->kind == CT_ARRAY && (t->flags & CTF_INCOMPLETE) && !last)
    return ctype_error(err, "flexible array member '%s' not at end of struct", f->name);
  if ((t->flags & CTF_VLA) && !last)
    return ctype_error(err, "variable-length member '%s' not at end of struct", f->name);
  if (t->size > CTYPE_MAXSIZE)
    return ctype_error(err, "size of member '%s' is too large", f->name);
  return 0;
}

static int ctype_place(CTState *S, CTLayout *L, CField *f, int last) {
  const CType *t = ctype_get(S, f->type);
  size_t a;
  if (ctype_checkmember(S, f, last, L->err)) return -1;
  if (f->flags & CFF_BITFIELD) {
    ctype_bitfield(L, f, t);
    return 0;
  }
  f->bitpos = f->bitsize = 0;
  a = ctype_memberalign(L, f, t->align);
  if (a > L->align) L->align = a;
  if (L->isunion) {
    f->offset = 0;
    if (t->size > L->maxsize) L->maxsize = t->size;
    return 0;
  }
  L->pos = ctype_roundbits(L->pos, (uint64_t)a * 8);
  if (L->pos / 8 > CTYPE_MAXSIZE - t->size)
    return ctype_error(L->err, "size of struct is too large at '%s'", f->name);
  f->offset = L->pos / 8;
  L->pos += (uint64_t)t->size * 8;
  return 0;
}

static int ctype_findin(CTState *S, uint32_t first, uint32_t n,
                        const char *name, size_t len, CField *out, int depth);

/* Find name in fields [first, first+n), through transparent members;
** offsets relative to the start of their record.  Inline, so that the
** common lookup (a plain member at the top level) makes no call. */
static inline int ctype_findlevel(CTState *S, uint32_t first, uint32_t n,
                                  const char *name, size_t len, CField *out,
                                  int depth) {
  const CField *f, *e;
  if (n == 0) return 0;            /* S->fields may still be NULL */
  for (f = &S->fields[first], e = f + n; f < e; f++) {
    if (f->name) {
      if (ctype_streq(f->name, name, len)) {
        *out = *f;
        return 1;
      }
    } else if ((f->flags & CFF_ANON) && depth < CTYPE_MAXDEPTH) {
      const CType *t = ctype_get(S, f->type);
      if (ctype_isrecord(t) &&
          ctype_findin(S, t->field, t->nfield, name, len, out, depth + 1)) {
        if (!(out->flags & CFF_CONSTVAL)) out->offset += f->offset;
        return 1;
      }
    }
  }
  return 0;
}

static int ctype_findin(CTState *S, uint32_t first, uint32_t n,
                        const char *name, size_t len, CField *out, int depth) {
  return ctype_findlevel(S, first, n, name, len, out, depth);
}

int ctype_findfield(CTState *S, CTypeID rec, const char *name, size_t len,
                    CField *out) {
  const CType *ct = ctype_get(S, rec);
  if (name == NULL || !(ctype_isrecord(ct) || ct->kind == CT_ENUM)) return 0;
  return ctype_findlevel(S, ct->field, ct->nfield, name, len, out, 0);
}

/* Is any name that field f makes visible already in [first, first+n)? */
static const char *ctype_dupname(CTState *S, uint32_t first, uint32_t n,
                                 const CField *f, int depth) {
  CField tmp;
  if (f->name)
    return ctype_findin(S, first, n, f->name, strlen(f->name), &tmp, 0) ? f->name : NULL;
  if ((f->flags & CFF_ANON) && depth < CTYPE_MAXDEPTH) {
    const CType *t = ctype_get(S, f->type);
    uint32_t i;
    const char *d;
    if (!ctype_isrecord(t)) return NULL;
    for (i = 0; i < t->nfield; i++)
      if ((d = ctype_dupname(S, first, n, &S->fields[t->field + i], depth + 1)))
        return d;
  }
  return NULL;
}

/* Arrays of record `id` created before it was complete get their size. */
static int ctype_fixarrays(CTState *S, CTypeID id, int depth) {
  uint32_t i;
  if (depth > CTYPE_MAXDEPTH) return 0;
  for (i = 0; i < S->arena->npend; i++) {
    CTypeID a = S->arena->pend[i];
    CType *ct;
    const CType *e = ctype_get(S, id);
    size_t size;
    if (a >= S->ntab) continue;
    ct = ctype_get(S, a);
    if (ct->kind != CT_ARRAY || ct->child != id || (ct->flags & (CTF_VLA|CTF_INCOMPLETE)))
      continue;
    size = e->size && ct->count > SIZE_MAX / e->size ? 0 : ct->count * e->size;
    if (size == ct->size && ct->align == e->align) continue;
    if (!ctype_save(S, a)) return -1;
    ct = ctype_get(S, a);
    ct->size = size;
    ct->align = e->align;
    if (ctype_fixarrays(S, a, depth + 1)) return -1;
  }
  return 0;
}

/* Flags a record gets from its last member with storage. */
static unsigned ctype_tailflags(CTState *S, uint32_t first, uint32_t n) {
  while (n > 0 && (S->fields[first + n - 1].flags & CFF_CONSTVAL)) n--;
  if (n > 0 && !(S->fields[first + n - 1].flags & CFF_BITFIELD)) {
    const CType *t = ctype_get(S, S->fields[first + n - 1].type);
    if (t->flags & CTF_VLA) return CTF_VLA;
    if (t->kind == CT_ARRAY && t->count == 0) return CTF_FLEX;
  }
  return 0;
}

/* Write the finished record, logging the old one for rollback. */
static int ctype_complete(CTState *S, CTypeID id, const CType *nc, char *err) {
  if (!ctype_save(S, id))
    return ctype_error(err, "not enough memory%s", "");
  *ctype_get(S, id) = *nc;
  S->nfields += nc->nfield;
  if (ctype_fixarrays(S, id, 0))
    return ctype_error(err, "not enough memory%s", "");
  return 0;
}

/* Lay out fields [fi, fi+n) of record id; fills L. */
static int ctype_layout(CTState *S, CTypeID id, uint32_t fi, uint32_t n,
                        CTLayout *L) {
  uint32_t i, last;
  const char *dup;
  for (last = n; last > 0 && (S->fields[fi + last - 1].flags & CFF_CONSTVAL); last--) {}
  for (i = 0; i < n; i++) {
    CField *f = &S->fields[fi + i];
    if ((dup = ctype_dupname(S, fi, i, f, 0)))
      return ctype_error(L->err, "duplicate member '%s'", dup);
    if (f->flags & CFF_CONSTVAL) {
      f->offset = 0;
      continue;
    }
    if (f->type == id)     /* redefining a complete record in place */
      return ctype_error(L->err, "field '%s' has incomplete type", f->name);
    if (ctype_place(S, L, f, i + 1 == last)) return -1;
  }
  return 0;
}

int ctype_setfields(CTState *S, CTypeID id, const CField *f, uint32_t n,
                    unsigned pack, unsigned attralign, unsigned flags, char *err) {
  CType nc = *ctype_get(S, id);
  CTLayout L;
  uint32_t fi;
  size_t align, bytes;
  if (!ctype_isrecord(&nc))
    return ctype_error(err, "'%s' is not a struct or union", nc.name);
  if (attralign & (attralign - 1))
    return ctype_error(err, "requested alignment of '%s' is not a power of 2", nc.name);
  if ((fi = ctype_newfields(S, n, &f)) == UINT32_MAX)
    return ctype_error(err, "not enough memory%s", "");
  if (n) memmove(&S->fields[fi], f, n * sizeof(CField));
  memset(&L, 0, sizeof L);
  L.align = 1;
  L.pack = pack;
  L.packed = (flags & CTF_PACKED) != 0;
  L.isunion = nc.kind == CT_UNION;
  L.err = err;
  if (ctype_layout(S, id, fi, n, &L)) return -1;
  align = L.align > attralign ? L.align : attralign;
  bytes = L.isunion ? L.maxsize : (size_t)((L.pos + 7) / 8);
  if (align > UINT32_MAX || bytes > CTYPE_MAXSIZE)
    return ctype_error(err, "size of '%s' is too large", nc.name);
  nc.size = ctype_roundup(bytes, align);
  nc.align = (uint32_t)align;
  nc.flags = (uint16_t)((nc.flags & CTF_METATYPE) | ctype_tailflags(S, fi, n) |
                        ((flags & CTF_PACKED) || pack ? CTF_PACKED : 0));
  nc.field = fi;
  nc.nfield = n;
  return ctype_complete(S, id, &nc, err);
}

/* gcc's choice: int unless a value needs more, then unsigned int, then
** 64 bits (signed when a value is negative). */
static CTypeID ctype_enumtype(const CField *c, uint32_t n) {
  int64_t lo = 0, hi = 0;
  uint32_t i;
  for (i = 0; i < n; i++) {
    if (c[i].value < lo) lo = c[i].value;
    if (c[i].value > hi) hi = c[i].value;
  }
  if (lo >= INT_MIN && hi <= INT_MAX) return CTID_INT;
  if (lo >= 0 && hi <= (int64_t)UINT_MAX) return CTID_UINT;
  return lo < 0 ? CTID_INT64 : CTID_UINT64;
}

int ctype_setenum(CTState *S, CTypeID id, const CField *consts, uint32_t n,
                  char *err) {
  CType nc = *ctype_get(S, id);
  const CType *u;
  uint32_t fi, i;
  CField tmp;
  if (nc.kind != CT_ENUM)
    return ctype_error(err, "'%s' is not an enum", nc.name);
  if ((fi = ctype_newfields(S, n, &consts)) == UINT32_MAX)
    return ctype_error(err, "not enough memory%s", "");
  for (i = 0; i < n; i++) {
    const char *nm = consts[i].name;
    CField *f = &S->fields[fi + i];
    if (nm && ctype_findin(S, fi, i, nm, strlen(nm), &tmp, 0))
      return ctype_error(err, "redeclaration of enumerator '%s'", nm);
    *f = consts[i];
    f->type = id;
    f->flags = (f->flags & ~(uint32_t)CFF_BITFIELD) | CFF_CONSTVAL;
    f->offset = 0;
  }
  nc.child = ctype_enumtype(consts, n);
  u = ctype_get(S, nc.child);
  nc.size = u->size;
  nc.align = u->align;
  nc.flags = (uint16_t)((nc.flags & CTF_METATYPE) | (u->flags & CTF_UNSIGNED));
  nc.field = fi;
  nc.nfield = n;
  return ctype_complete(S, id, &nc, err);
}

CTypeID ctype_newrecord(CTState *S, int kind, const char *tag) {
  const char *name = NULL;
  CTypeID id;
  CType *ct;
  if (tag && (name = ctype_str(S, tag, strlen(tag))) == NULL) return 0;
  if ((id = ctype_new(S)) == 0) return 0;
  ct = ctype_get(S, id);
  ct->kind = (uint8_t)kind;
  ct->flags = CTF_INCOMPLETE;
  ct->name = name;
  if (kind == CT_ENUM) {   /* an incomplete enum is still int-like */
    ct->child = CTID_INT;
    ct->align = _Alignof(int);
  }
  return id;
}

/* ---------------------------------------------------------------------- */
/* Sizes.                                                                 */

static size_t ctype_vls(CTState *S, CTypeID id, size_t n, int depth) {
  const CType *ct = ctype_get(S, id);
  if (ct->kind == CT_ARRAY && (ct->flags & CTF_VLA)) {
    size_t esz = ctype_get(S, ct->child)->size;
    if (esz && n > SIZE_MAX / esz) return (size_t)-1;
    return n * esz;
  }
  /* VLS: the fixed size plus the variable part of the last member, as
  ** LuaJIT and C's malloc(sizeof(S) + n * sizeof(T)) do. */
  if (ctype_isrecord(ct) && (ct->flags & CTF_VLA) && depth < CTYPE_MAXDEPTH) {
    uint32_t i = ct->nfield;
    const CField *f;
    size_t sub;
    while (i > 0 && (ctype_field(S, ct, i - 1)->flags & CFF_CONSTVAL)) i--;
    if (i == 0) return ct->size;
    f = ctype_field(S, ct, i - 1);
    sub = ctype_vls(S, f->type, n, depth + 1);
    if (sub == (size_t)-1) return (size_t)-1;
    sub -= ctype_get(S, f->type)->size;
    return sub > SIZE_MAX - 1 - ct->size ? (size_t)-1 : ct->size + sub;
  }
  return ct->size;
}

size_t ctype_vlsize(CTState *S, CTypeID id, size_t n) {
  return ctype_vls(S, id, n, 0);
}

/* ---------------------------------------------------------------------- */
/* C spelling of a type.                                                  */

typedef struct CTBuf {
  char *b;
  size_t n, cap;           /* cap: characters, the NUL not counted */
} CTBuf;

static void ctype_put(CTBuf *B, const char *s) {
  size_t len = strlen(s);
  if (len > B->cap - B->n) len = B->cap - B->n;
  memcpy(B->b + B->n, s, len);
  B->n += len;
}

/* Prepend s; what no longer fits is dropped from the end. */
static void ctype_pre(CTBuf *B, const char *s) {
  size_t len = strlen(s), keep = B->n;
  if (len > B->cap) len = B->cap;
  if (keep > B->cap - len) keep = B->cap - len;
  memmove(B->b + len, B->b, keep);
  memcpy(B->b, s, len);
  B->n = len + keep;
}

static const char *ctype_qualstr(unsigned quals) {
  switch (quals & CTF_QUALS) {
  case CTF_CONST: return "const";
  case CTF_VOLATILE: return "volatile";
  case CTF_QUALS: return "const volatile";
  default: return "";
  }
}

static const char *ctype_intname(const CType *ct) {
  int u = (ct->flags & CTF_UNSIGNED) != 0;
  if (ct->flags & CTF_WCHAR) return "wchar_t";
  if (ct->flags & CTF_CHAR) return "char";
  switch (ct->size) {
  case 1: return u ? "unsigned char" : "signed char";
  case 2: return u ? "unsigned short" : "short";
  case 4: return u ? "unsigned int" : "int";
  case 8:
    if (ct->flags & CTF_LONG) return u ? "unsigned long" : "long";
    return u ? "uint64_t" : "int64_t";
  default: return u ? "unsigned __int128" : "__int128";
  }
}

static const char *ctype_floatname(const CType *ct) {
  if (ct->flags & CTF_LONG) return "long double";
  return ct->size == 4 ? "float" : "double";
}

static const char *ctype_scalarname(const CType *ct) {
  switch (ct->kind) {
  case CT_VOID: return "void";
  case CT_BOOL: return "bool";
  case CT_INT: return ctype_intname(ct);
  case CT_FLOAT: return ctype_floatname(ct);
  default: return "va_list";     /* CT_PTR with CTF_VALIST */
  }
}

/* Prepend the specifier part: "int", "struct foo", "complex float"... */
static void ctype_prebase(CTState *S, CTBuf *B, CTypeID id) {
  const CType *ct = ctype_get(S, id);
  const CType *e = ctype_get(S, ct->child);
  char num[64];
  switch (ct->kind) {
  case CT_COMPLEX:
    ctype_pre(B, e->size == 4 ? "complex float"
              : (e->flags & CTF_LONG) ? "complex long double" : "complex");
    break;
  case CT_VECTOR:
    snprintf(num, sizeof num, " __attribute__((vector_size(%zu)))", ct->size);
    ctype_pre(B, num);
    ctype_pre(B, ctype_scalarname(e));
    break;
  case CT_STRUCT: case CT_UNION: case CT_ENUM:
    if (ct->name) ctype_pre(B, ct->name);
    else {
      snprintf(num, sizeof num, "%u", (unsigned)id);
      ctype_pre(B, num);
    }
    ctype_pre(B, ct->kind == CT_STRUCT ? "struct " : ct->kind == CT_UNION ? "union " : "enum ");
    break;
  default:
    ctype_pre(B, ctype_scalarname(ct));
    break;
  }
}

/* A work budget: nested function types can share subtrees exponentially. */
typedef struct CTRepr {
  CTState *S;
  int budget;
} CTRepr;

static void ctype_decl(CTRepr *R, CTBuf *B, CTypeID id, unsigned quals, int depth);

/* Parameters are spelled in place, each in the free tail of B. */
static void ctype_params(CTRepr *R, CTBuf *B, const CType *ct, int depth) {
  uint32_t i;
  ctype_put(B, "(");
  for (i = 0; i < ct->nfield; i++) {
    CTBuf P;
    if (i) ctype_put(B, ", ");
    if (depth >= CTYPE_MAXDEPTH || R->budget <= 0 || B->n == B->cap) {
      ctype_put(B, "...");
      break;
    }
    P.b = B->b + B->n;
    P.n = 0;
    P.cap = B->cap - B->n;
    ctype_decl(R, &P, ctype_field(R->S, ct, i)->type, 0, depth + 1);
    B->n += P.n;
  }
  if (ct->flags & CTF_VARIADIC) ctype_put(B, ct->nfield ? ", ..." : "...");
  else if (ct->nfield == 0) ctype_put(B, "void");
  ctype_put(B, ")");
}

/* Build the declarator in B around the abstract name, from the outside in:
** pointers prepend, arrays and functions append; quals qualify `id`. */
static void ctype_decl(CTRepr *R, CTBuf *B, CTypeID id, unsigned quals, int depth) {
  for (;;) {
    const CType *ct = ctype_get(R->S, id);
    const CType *c;
    char num[32];
    if (--R->budget < 0) return;
    switch (ct->kind) {
    case CT_PTR:
      if (ct->flags & CTF_VALIST) goto base;
      /* fallthrough */
    case CT_REF:
      if (quals & CTF_QUALS) {
        if (B->n) ctype_pre(B, " ");
        ctype_pre(B, ctype_qualstr(quals));
      }
      ctype_pre(B, ct->kind == CT_PTR ? "*" : "&");
      c = ctype_get(R->S, ct->child);
      if (c->kind == CT_ARRAY || c->kind == CT_FUNC) {
        ctype_pre(B, "(");
        ctype_put(B, ")");
      }
      quals = ct->flags & CTF_QUALS;
      id = ct->child;
      break;
    case CT_ARRAY:
      if (ct->flags & CTF_VLA) ctype_put(B, "[?]");
      else if (ct->flags & CTF_INCOMPLETE) ctype_put(B, "[]");
      else {
        snprintf(num, sizeof num, "[%zu]", ct->count);
        ctype_put(B, num);
      }
      quals |= ct->flags & CTF_QUALS;
      id = ct->child;
      break;
    case CT_FUNC:
      ctype_params(R, B, ct, depth);
      quals = 0;
      id = ct->child;
      break;
    default:
      goto base;
    }
  }
base:
  if (B->n && B->b[0] != '[') ctype_pre(B, " ");
  ctype_prebase(R->S, B, id);
  if (quals & CTF_QUALS) {
    ctype_pre(B, " ");
    ctype_pre(B, ctype_qualstr(quals));
  }
}

char *ctype_repr(CTState *S, CTypeID id, char *buf, size_t bufsz) {
  CTBuf B;
  CTRepr R;
  if (bufsz == 0) return buf;
  B.b = buf;
  B.n = 0;
  B.cap = bufsz - 1;
  R.S = S;
  R.budget = 4096;
  ctype_decl(&R, &B, id, 0, 0);
  buf[B.n] = '\0';
  return buf;
}

/* ---------------------------------------------------------------------- */
/* Structural identity (redefinitions of the same record).               */

/* The two records being compared: references to them inside count as equal
** (struct node { struct node *next; } defined twice). */
typedef struct CTSame {
  CTypeID a, b;
} CTSame;

static int ctype_samex(CTState *S, const CTSame *C, CTypeID a, CTypeID b, int depth);

static int ctype_samestr(const char *x, const char *y) {
  return x == y || (x && y && strcmp(x, y) == 0);
}

static int ctype_samefield(CTState *S, const CTSame *C, const CField *x,
                           const CField *y, int depth) {
  return ctype_samestr(x->name, y->name) && x->flags == y->flags &&
         x->attralign == y->attralign && x->bitpos == y->bitpos &&
         x->bitsize == y->bitsize && x->offset == y->offset &&
         x->value == y->value && ctype_samex(S, C, x->type, y->type, depth + 1);
}

static int ctype_samebody(CTState *S, const CTSame *C, const CType *x,
                          const CType *y, int depth) {
  uint32_t i;
  if (!ctype_samestr(x->name, y->name) || x->child != y->child) return 0;
  for (i = 0; i < x->nfield; i++)
    if (!ctype_samefield(S, C, ctype_field(S, x, i), ctype_field(S, y, i), depth))
      return 0;
  return 1;
}

static int ctype_samex(CTState *S, const CTSame *C, CTypeID a, CTypeID b, int depth) {
  const CType *x = ctype_get(S, a), *y = ctype_get(S, b);
  uint32_t i;
  if (a == b || (depth > 0 && ((a == C->a && b == C->b) || (a == C->b && b == C->a))))
    return 1;
  if (depth > CTYPE_MAXDEPTH || x->kind != y->kind) return 0;
  if ((x->flags & ~CTF_METATYPE) != (y->flags & ~CTF_METATYPE) ||
      x->size != y->size || x->align != y->align || x->count != y->count ||
      x->nfield != y->nfield)
    return 0;
  switch (x->kind) {
  case CT_STRUCT: case CT_UNION: case CT_ENUM:
    /* Below the top, distinct tagged records are distinct types. */
    if (depth > 0 && (x->name || y->name)) return 0;
    return ctype_samebody(S, C, x, y, depth);
  case CT_FUNC:
    for (i = 0; i < x->nfield; i++) {
      const CField *p = ctype_field(S, x, i), *q = ctype_field(S, y, i);
      if (CTYPE_PARAMKEY(p) != CTYPE_PARAMKEY(q) ||
          !ctype_samex(S, C, p->type, q->type, depth + 1))
        return 0;
    }
    /* fallthrough */
  case CT_PTR: case CT_REF: case CT_ARRAY: case CT_VECTOR:
    return ctype_samex(S, C, x->child, y->child, depth + 1);
  default:
    return 0;
  }
}

int ctype_same(CTState *S, CTypeID a, CTypeID b) {
  CTSame C;
  C.a = a;
  C.b = b;
  return ctype_samex(S, &C, a, b, 0);
}

/* ---------------------------------------------------------------------- */
/* Names.  Ordinary names have key 0, tags 0x100|kind (kind in CName.value). */

#define CTYPE_TAGKEY(kind)  (0x100u | (uint32_t)(kind))

static uint32_t ctype_namekey(const CName *n) {
  return n->kind == CN_TAG ? CTYPE_TAGKEY(n->value) : 0;
}

static uint32_t ctype_namehash(const char *s, size_t len, uint32_t key) {
  return ctype_hashstr(s, len) ^ (key * 0x9e3779b1u);
}

static void ctype_nameput(CTState *S, uint32_t i) {
  CName *n = &S->names[i];
  uint32_t b = ctype_namehash(n->name, strlen(n->name), ctype_namekey(n)) &
               (S->nhashsize - 1);
  n->next = S->nhash[b];
  S->nhash[b] = i;
}

static void ctype_namerehash(CTState *S) {
  uint32_t i;
  memset(S->nhash, 0, S->nhashsize * sizeof(uint32_t));
  for (i = 1; i < S->nnames; i++) ctype_nameput(S, i);
}

static uint32_t ctype_findname(CTState *S, const char *s, size_t len, uint32_t key) {
  uint32_t i = S->nhash[ctype_namehash(s, len, key) & (S->nhashsize - 1)];
  for (; i; i = S->names[i].next) {
    const CName *n = &S->names[i];
    if (ctype_namekey(n) == key && ctype_streq(n->name, s, len)) return i;
  }
  return 0;
}

/* Append n (strings already interned); 0 on OOM. */
static int ctype_addname(CTState *S, const CName *n) {
  CName *ns = ctype_growvec(S->names, &S->sznames, S->nnames + 1, sizeof(CName));
  if (ns == NULL || S->nnames == UINT32_MAX) return 0;
  S->names = ns;
  ns[S->nnames] = *n;
  ctype_nameput(S, S->nnames++);
  if (S->nnames > S->nhashsize && S->nhashsize * 2 > S->nhashsize) {
    uint32_t *nh = realloc(S->nhash, S->nhashsize * 2 * sizeof(uint32_t));
    if (nh) {
      S->nhash = nh;
      S->nhashsize *= 2;
      ctype_namerehash(S);
    }
  }
  return 1;
}

const CName *ctype_lookup(CTState *S, const char *name, size_t len) {
  uint32_t i = ctype_findname(S, name, len, 0);
  return i ? &S->names[i] : NULL;
}

CTypeID ctype_lookuptag(CTState *S, int kind, const char *tag, size_t len) {
  uint32_t i = ctype_findname(S, tag, len, CTYPE_TAGKEY(kind));
  return i ? S->names[i].type : 0;
}

static int ctype_sametype(CTState *S, CTypeID a, CTypeID b) {
  return a == b || ctype_same(S, a, b);
}

int ctype_declaretag(CTState *S, int kind, const char *tag, CTypeID id) {
  size_t len = strlen(tag);
  uint32_t i = ctype_findname(S, tag, len, CTYPE_TAGKEY(kind));
  CName n;
  if (i) return ctype_sametype(S, S->names[i].type, id) ? 1 : -1;
  memset(&n, 0, sizeof n);
  n.kind = CN_TAG;
  n.type = id;
  n.value = kind;
  if ((n.name = ctype_str(S, tag, len)) == NULL) return -2;
  return ctype_addname(S, &n) ? 0 : -2;
}

int ctype_declare(CTState *S, const CName *n) {
  size_t len = strlen(n->name);
  uint32_t i;
  CName c;
  if (n->kind == CN_TAG)
    return ctype_declaretag(S, ctype_get(S, n->type)->kind, n->name, n->type);
  if ((i = ctype_findname(S, n->name, len, 0))) {
    const CName *o = &S->names[i];
    int samesym = o->sym == n->sym ||
                  (o->sym && n->sym && strcmp(o->sym, n->sym) == 0);
    return o->kind == n->kind && o->quals == n->quals && o->value == n->value &&
           samesym && ctype_sametype(S, o->type, n->type) ? 1 : -1;
  }
  c = *n;
  c.next = 0;
  if ((c.name = ctype_str(S, n->name, len)) == NULL) return -2;
  if (n->sym && (c.sym = ctype_str(S, n->sym, strlen(n->sym))) == NULL) return -2;
  return ctype_addname(S, &c) ? 0 : -2;
}

/* ---------------------------------------------------------------------- */
/* The state.                                                             */

static CTypeID ctype_prim(CTState *S, int kind, unsigned flags, size_t size,
                          size_t align, CTypeID child) {
  CTypeID id = ctype_new(S);
  if (id) {
    CType *ct = ctype_get(S, id);
    ct->kind = (uint8_t)kind;
    ct->flags = (uint16_t)flags;
    ct->size = size;
    ct->align = (uint32_t)align;
    ct->child = child;
  }
  return id;
}

#if CHAR_MIN < 0
#define CTYPE_CHARSIGN  0u
#else
#define CTYPE_CHARSIGN  CTF_UNSIGNED
#endif
#if WCHAR_MIN < 0
#define CTYPE_WCHARSIGN 0u
#else
#define CTYPE_WCHARSIGN CTF_UNSIGNED
#endif

#define CTYPE_P(k, f, T)  ctype_prim(S, k, f, sizeof(T), _Alignof(T), 0)

/* The primitives, in CTID_* order; 0 when something went wrong. */
static int ctype_addprims(CTState *S) {
  const unsigned U = CTF_UNSIGNED;
  int ok = ctype_prim(S, CT_VOID, CTF_INCOMPLETE, 0, 1, 0) == CTID_VOID &&
    CTYPE_P(CT_BOOL, 0, _Bool) == CTID_BOOL &&
    CTYPE_P(CT_INT, CTF_CHAR | CTYPE_CHARSIGN, char) == CTID_CHAR &&
    CTYPE_P(CT_INT, 0, signed char) == CTID_SCHAR &&
    CTYPE_P(CT_INT, U, unsigned char) == CTID_UCHAR &&
    CTYPE_P(CT_INT, 0, short) == CTID_SHORT &&
    CTYPE_P(CT_INT, U, unsigned short) == CTID_USHORT &&
    CTYPE_P(CT_INT, 0, int) == CTID_INT &&
    CTYPE_P(CT_INT, U, unsigned int) == CTID_UINT &&
    CTYPE_P(CT_INT, CTF_LONG, long) == CTID_LONG &&
    CTYPE_P(CT_INT, CTF_LONG | U, unsigned long) == CTID_ULONG &&
    CTYPE_P(CT_INT, 0, long long) == CTID_INT64 &&
    CTYPE_P(CT_INT, U, unsigned long long) == CTID_UINT64 &&
    CTYPE_P(CT_FLOAT, 0, float) == CTID_FLOAT &&
    CTYPE_P(CT_FLOAT, 0, double) == CTID_DOUBLE &&
    CTYPE_P(CT_FLOAT, CTF_LONG, long double) == CTID_LDOUBLE &&
    ctype_prim(S, CT_COMPLEX, 0, sizeof(_Complex float), _Alignof(_Complex float),
               CTID_FLOAT) == CTID_CFLOAT &&
    ctype_prim(S, CT_COMPLEX, 0, sizeof(_Complex double), _Alignof(_Complex double),
               CTID_DOUBLE) == CTID_CDOUBLE &&
    CTYPE_P(CT_INT, CTF_WCHAR | CTYPE_WCHARSIGN, wchar_t) == CTID_WCHAR &&
    ctype_ptr(S, CTID_VOID, 0) == CTID_VOIDP &&
    ctype_ptr(S, CTID_VOID, CTF_CONST) == CTID_CVOIDP &&
    ctype_ptr(S, CTID_CHAR, 0) == CTID_CHARP &&
    ctype_ptr(S, CTID_CHAR, CTF_CONST) == CTID_CCHARP &&
    ctype_prim(S, CT_PTR, CTF_VALIST, sizeof(void *), _Alignof(void *),
               CTID_VOID) == CTID_VALIST;
  return ok && S->ntab == CTID_FIRSTFREE;
}

static const struct { const char *name; CTypeID id; } ctype_typedefs[] = {
  {"int8_t", CTID_SCHAR}, {"uint8_t", CTID_UCHAR},
  {"int16_t", CTID_SHORT}, {"uint16_t", CTID_USHORT},
  {"int32_t", CTID_INT}, {"uint32_t", CTID_UINT},
  {"int64_t", CTID_INT64}, {"uint64_t", CTID_UINT64},
  {"intptr_t", CTID_LONG}, {"ptrdiff_t", CTID_LONG}, {"ssize_t", CTID_LONG},
  {"uintptr_t", CTID_ULONG}, {"size_t", CTID_ULONG},
  {"wchar_t", CTID_WCHAR}, {"char16_t", CTID_USHORT}, {"char32_t", CTID_UINT},
  {"va_list", CTID_VALIST}, {"__builtin_va_list", CTID_VALIST},
  {"__gnuc_va_list", CTID_VALIST},
};

static int ctype_addtypedefs(CTState *S) {
  size_t i;
  for (i = 0; i < sizeof ctype_typedefs / sizeof ctype_typedefs[0]; i++) {
    CName n;
    memset(&n, 0, sizeof n);
    n.name = ctype_typedefs[i].name;
    n.kind = CN_TYPEDEF;
    n.type = ctype_typedefs[i].id;
    if (ctype_declare(S, &n) != 0) return 0;
  }
  return 1;
}

CTState *ctype_newstate(void) {
  CTState *S = calloc(1, sizeof(CTState));
  if (S == NULL) return NULL;
  S->arena = calloc(1, sizeof(struct CTArena));
  S->thashsize = 256;
  S->thash = calloc(S->thashsize, sizeof(CTypeID));
  S->nhashsize = 256;
  S->nhash = calloc(S->nhashsize, sizeof(uint32_t));
  S->ntab = 1;             /* id 0: none */
  S->nnames = 1;           /* names[0] unused */
  S->tab = ctype_growvec(NULL, &S->sztab, 256, sizeof(CType));
  S->names = ctype_growvec(NULL, &S->sznames, 64, sizeof(CName));
  if (S->arena == NULL || S->thash == NULL || S->nhash == NULL ||
      S->tab == NULL || S->names == NULL) {
    ctype_freestate(S);
    return NULL;
  }
  memset(&S->tab[0], 0, sizeof(CType));
  memset(&S->names[0], 0, sizeof(CName));
  if (!ctype_addprims(S) || !ctype_addtypedefs(S)) {
    ctype_freestate(S);
    return NULL;
  }
  return S;
}

void ctype_freestate(CTState *S) {
  struct CTArena *A;
  if (S == NULL) return;
  if ((A = S->arena) != NULL) {
    while (A->blocks) {
      CTBlock *b = A->blocks;
      A->blocks = b->next;
      free(b);
    }
    free(A->strs);
    free(A->pend);
    free(A);
  }
  if (S->txn) {
    free(((CTTxn *)S->txn)->undo);
    free(S->txn);
  }
  free(S->tab);
  free(S->fields);
  free(S->thash);
  free(S->names);
  free(S->nhash);
  free(S);
}
